"""The peer benchmark for the Load-balancing lab: the same model in SimPy.

Many servers, each working on one request at a time with a FIFO queue;
Poisson arrivals; exponential service; routing random or power of two
choices (the shorter of two random servers' queue-plus-in-service). Prints
one JSON line: requests simulated, wall seconds, requests per second.
Run by ./dev bench from a project-local virtual environment.
"""
import json
import random
import sys
import time

import simpy


def run(servers, rate, mean_ms, seconds, policy, seed):
    rng = random.Random(seed)
    env = simpy.Environment()
    pool = [simpy.Resource(env, capacity=1) for _ in range(servers)]
    done = [0]

    def load(r):
        return len(r.queue) + r.count

    def request(env, server, cost):
        with server.request() as slot:
            yield slot
            yield env.timeout(cost)
        done[0] += 1

    def arrivals(env):
        while True:
            yield env.timeout(rng.expovariate(rate))
            if policy == "random":
                s = pool[rng.randrange(servers)]
            else:
                a, b = pool[rng.randrange(servers)], pool[rng.randrange(servers)]
                s = a if load(a) <= load(b) else b
            env.process(request(env, s, rng.expovariate(1000.0 / mean_ms)))

    env.process(arrivals(env))
    start = time.perf_counter()
    env.run(until=seconds)
    wall = time.perf_counter() - start
    return done[0], wall


if __name__ == "__main__":
    servers, rate, mean_ms, seconds = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
    for policy in ("random", "power_of_2"):
        n, wall = run(servers, rate, mean_ms, seconds, policy, 1)
        print(json.dumps({"policy": policy, "requests": n, "seconds": wall, "requests_per_sec": n / wall}))

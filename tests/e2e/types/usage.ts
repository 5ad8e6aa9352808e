// What a page author writes against web/clusterscope.d.ts (docs/embedding.md):
// every line must type-check, and every line after `@ts-expect-error` must
// be an error, so declarations that loosen (an `any`, a wrong union) fail
// the test as surely as ones that break.
import type {
  ClusterScopeElement,
  ClusterScopeMessage,
  ClusterScopeRequest,
  ClusterScopeState,
} from './clusterscope';

export async function drive(found: Element | null): Promise<void> {
  // The tag is known to the DOM's types: querySelector returns the element.
  const el = document.querySelector('cluster-scope');
  if (!el || found !== el) return;
  const typed: ClusterScopeElement = el;
  const s: ClusterScopeState = await typed.play();
  const time: number = s.time;
  const leader: string | null = s.leader;
  const violation: string | null = s.violation;
  await el.seek('1.5s');
  await el.seek(time + 2);
  await el.setSpeed(0);
  await el.act(`crash ${leader ?? 'S1'}`);
  await el.load('lab raft\nseed 7\n');
  const nothing: undefined = await el.setView('both');
  const frame: HTMLIFrameElement | null = el.iframe;
  el.addEventListener('leader', (e) => {
    const who: string | null = e.detail.leader;
    // @ts-expect-error a leader event has no invariant
    void e.detail.invariant;
    void who;
  });
  el.addEventListener('violation', (e) => void (e.detail.invariant satisfies string));
  el.addEventListener('caption', (e) => void (e.detail.at satisfies number));
  el.addEventListener('loaded', (e) => void (e.detail.link satisfies string));
  el.addEventListener('error', (e) => void (e.detail.error satisfies string));
  // @ts-expect-error seek takes seconds or a duration, not a flag
  await el.seek(true);
  // @ts-expect-error the view is cluster, diagram or both
  await el.setView('table');
  // @ts-expect-error the state has no 'leaders'
  void s.leaders;
  // @ts-expect-error act takes the action's text
  await el.act({ crash: 'S1' });
  void [violation, nothing, frame];
}

// The postMessage API under the element, for pages that drive an iframe.
export const seek: ClusterScopeRequest = { api: 'clusterscope', version: 1, type: 'seek', time: '2s', id: 1 };
// @ts-expect-error an act request needs its action
export const act: ClusterScopeRequest = { api: 'clusterscope', version: 1, type: 'act' };
// @ts-expect-error there is no 'explode' request
export const explode: ClusterScopeRequest = { api: 'clusterscope', version: 1, type: 'explode' };

export function heard(m: ClusterScopeMessage): number {
  if (m.type === 'event' && m.event === 'decided') return m.count;
  if (m.type === 'error') return m.error.length;
  if (m.type === 'reply') return m.state?.events ?? 0;
  // @ts-expect-error a message's type is reply, error or event
  if (m.type === 'frame') return 1;
  return 0;
}

// Types for <cluster-scope> (clusterscope.js): the element's methods and the
// events it dispatches, and the postMessage API under it (docs/embedding.md)
// for pages that drive a lab's iframe themselves. The lab's own types are in
// crates/app/src/view/api.rs; a test there checks that these say the same.

/** The lab's state, as every reply carries it. */
export interface ClusterScopeState {
  lab: string;
  /** Virtual time, in seconds. */
  time: number;
  playing: boolean;
  fingerprint: string;
  events: number;
  /** The leader ("S2"), or null. */
  leader: string | null;
  decided: number;
  violation: string | null;
  link: string;
  /** How many of the scenario's actions are still to come. */
  script: number;
  /** What the last branch or take-over dropped, in words, or null. */
  branch: string | null;
}

/** Each request's fields besides `type` (the element's methods send them). */
export interface ClusterScopeRequests {
  play: {};
  pause: {};
  step: {};
  stepBack: {};
  /** Seconds, or a duration such as "1.5s". */
  seek: { time: number | string };
  /** Virtual seconds per second, 0 for as fast as possible. */
  speed: { speed: number };
  /** A scenario's text, or a share link's part after '#'. */
  load: { scenario?: string; link?: string };
  /** An action as in a scenario file after `at T`: "crash S1". */
  act: { action: string };
  takeOver: {};
  undo: {};
  view: { view: 'cluster' | 'diagram' | 'both' };
  get: {};
}

/** The answers to a request, by `type`; `id` is the request's. */
export interface ClusterScopeAnswers {
  /** Done; `view` answers without a state. */
  reply: { id: unknown; ok: true; state?: ClusterScopeState };
  /** Refused, in a sentence; nothing changed. */
  error: { id: unknown; ok: false; error: string };
}

/** The lab's events, by name: their fields (the element's event.detail). */
export interface ClusterScopeEvents {
  ready: { event: 'ready'; time: number; lab: string };
  loaded: { event: 'loaded'; time: number; lab: string; link: string };
  time: { event: 'time'; time: number; playing: boolean };
  leader: { event: 'leader'; time: number; leader: string | null };
  decided: { event: 'decided'; time: number; count: number };
  note: { event: 'note'; time: number; node: string; note: string };
  caption: { event: 'caption'; time: number; text: string; at: number };
  violation: { event: 'violation'; time: number; invariant: string };
}

/** A request as a page posts it to the lab's window. */
export type ClusterScopeRequest = {
  [K in keyof ClusterScopeRequests]: { api: 'clusterscope'; version: 1; type: K; id?: unknown } & ClusterScopeRequests[K];
}[keyof ClusterScopeRequests];

/** A message the lab posts: an answer to the window that asked, or an event to its parent. */
export type ClusterScopeMessage =
  | {
      [K in keyof ClusterScopeAnswers]: { api: 'clusterscope'; version: 1; type: K } & ClusterScopeAnswers[K];
    }[keyof ClusterScopeAnswers]
  | ({ api: 'clusterscope'; version: 1; type: 'event' } & ClusterScopeEvents[keyof ClusterScopeEvents]);

/** The element's events: the lab's, and `error` when the element cannot load its scenario. */
export interface ClusterScopeElementEvents extends ClusterScopeEvents {
  error: { error: string };
}

export type ClusterScopeEventName = keyof ClusterScopeElementEvents;

/** The fields of an element's event (event.detail). */
export type ClusterScopeEventDetail = ClusterScopeElementEvents[ClusterScopeEventName];

export interface ClusterScopeElement extends HTMLElement {
  play(): Promise<ClusterScopeState>;
  pause(): Promise<ClusterScopeState>;
  step(): Promise<ClusterScopeState>;
  stepBack(): Promise<ClusterScopeState>;
  /** Seconds, or a duration such as "1.5s". */
  seek(time: number | string): Promise<ClusterScopeState>;
  /** Virtual seconds per second, 0 for as fast as possible. */
  setSpeed(speed: number): Promise<ClusterScopeState>;
  /** An action as in a scenario file after `at T`: "crash S1". */
  act(action: string): Promise<ClusterScopeState>;
  /** A scenario's text. */
  load(scenario: string): Promise<ClusterScopeState>;
  takeOver(): Promise<ClusterScopeState>;
  undo(): Promise<ClusterScopeState>;
  /** Resolves with no state: the lab answers `view` without one. */
  setView(view: 'cluster' | 'diagram' | 'both'): Promise<undefined>;
  state(): Promise<ClusterScopeState>;
  readonly iframe: HTMLIFrameElement | null;
  addEventListener<K extends ClusterScopeEventName>(
    type: K,
    listener: (ev: CustomEvent<ClusterScopeElementEvents[K]>) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ): void;
}

declare global {
  interface HTMLElementTagNameMap {
    'cluster-scope': ClusterScopeElement;
  }
}

// Types for <cluster-scope> (clusterscope.js): the element's methods and the
// events it dispatches. See docs/embedding.md.

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

/** The fields of a lab's event (event.detail). */
export interface ClusterScopeEventDetail {
  event: string;
  /** Virtual time, in seconds. */
  time?: number;
  lab?: string;
  playing?: boolean;
  leader?: string | null;
  count?: number;
  node?: string;
  note?: string;
  text?: string;
  at?: number;
  invariant?: string;
  /** For `error`: the sentence. */
  error?: string;
}

export type ClusterScopeEventName =
  | 'ready' | 'loaded' | 'time' | 'leader' | 'decided' | 'note' | 'caption' | 'violation' | 'error';

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
  setView(view: 'cluster' | 'diagram' | 'both'): Promise<ClusterScopeState>;
  state(): Promise<ClusterScopeState>;
  readonly iframe: HTMLIFrameElement | null;
  addEventListener(
    type: ClusterScopeEventName,
    listener: (ev: CustomEvent<ClusterScopeEventDetail>) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
}

declare global {
  interface HTMLElementTagNameMap {
    'cluster-scope': ClusterScopeElement;
  }
}

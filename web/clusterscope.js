// <cluster-scope>: a ClusterScope lab in any page, from one script with no
// dependencies. It makes the sandboxed iframe, passes the options, turns
// the postMessage API (docs/embedding.md) into methods that return promises,
// and the lab's events into DOM events on the element.
//
//   <script src="https://example.org/clusterscope/clusterscope.js" defer></script>
//   <cluster-scope controls="compact" view="both" height="480">
//     lab raft
//     seed 7
//     at 2s crash S1
//   </cluster-scope>
//
// Attributes: `lab` (when no scenario is given), `src` (a .scn file or a
// share link), `controls` (none, compact, full), `view` (cluster, diagram,
// both), `height` (pixels), `speed`, `autoplay` (1 or 0), `t` (a time to open
// at), `site` (where ClusterScope is served; by default where this script
// came from), `title`. The scenario is the element's text when there is no
// `src`. Methods: play(), pause(), step(), stepBack(), seek(time),
// setSpeed(x), act(action), load(text), takeOver(), undo(), setView(v),
// state(); each resolves with the lab's state or rejects with an Error
// whose message is the lab's sentence. Events: ready, loaded, time,
// leader, decided, note, caption, violation (event.detail holds the
// message's fields), and error when the scenario cannot be read.
(() => {
  if (customElements.get('cluster-scope')) return;
  const API = 'clusterscope';
  const VERSION = 1;
  const here = document.currentScript ? new URL('.', document.currentScript.src).href : new URL('.', location.href).href;

  // The part of a share link after '#': "v1." then the scenario's text,
  // raw DEFLATE, URL-safe base64 without padding (as the site writes).
  async function linkOf(text) {
    const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('deflate-raw'));
    const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
    let bin = '';
    for (const b of bytes) bin += String.fromCharCode(b);
    return 'v1.' + btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  // The element's text without the indentation common to its lines.
  function dedent(text) {
    const lines = text.replace(/^\s*\n/, '').replace(/\s+$/, '').split('\n');
    const indents = lines.filter((l) => l.trim()).map((l) => l.match(/^[ \t]*/)[0].length);
    const cut = indents.length ? Math.min(...indents) : 0;
    return lines.map((l) => l.slice(cut)).join('\n') + '\n';
  }

  class ClusterScope extends HTMLElement {
    #frame = null;
    #pending = new Map();
    #next = 1;
    #ready = null;
    #readyResolve = null;
    #onMessage = (e) => this.#message(e);

    connectedCallback() {
      if (this.#frame) return;
      this.#ready = new Promise((ok) => (this.#readyResolve = ok));
      // An element met while the page is still parsed has no text yet.
      if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', () => this.isConnected && this.#start(), { once: true });
      } else this.#start();
    }

    #start() {
      if (this.#frame) return;
      // The text stays where the page put it: a framework that rendered it
      // (React, hydrating a server-rendered page) still finds it there, and a
      // moved element still has its scenario. The iframe goes into a shadow
      // root, which shows the lab instead of the text.
      const text = this.textContent;
      const root = this.shadowRoot ?? this.attachShadow({ mode: 'open' });
      const frame = document.createElement('iframe');
      frame.setAttribute('sandbox', 'allow-scripts');
      frame.title = this.getAttribute('title') || 'ClusterScope lab';
      frame.style.cssText = `width:100%;border:0;display:block;height:${parseInt(this.getAttribute('height') || '480', 10)}px`;
      this.#frame = frame;
      root.replaceChildren(frame);
      window.addEventListener('message', this.#onMessage);
      this.#open(text).catch((err) => this.#fail(err));
    }

    disconnectedCallback() {
      window.removeEventListener('message', this.#onMessage);
      for (const { fail } of this.#pending.values()) fail(new Error('the element was removed'));
      this.#pending.clear();
      this.#frame?.remove();
      this.#frame = null;
    }

    async #open(text) {
      const site = new URL(this.getAttribute('site') || here, location.href).href;
      let fragment = '';
      const src = this.getAttribute('src');
      if (src) {
        const hash = src.indexOf('#');
        if (hash >= 0 || src.startsWith('v1.')) fragment = src.slice(hash + 1);
        else {
          const res = await fetch(new URL(src, location.href));
          if (!res.ok) throw new Error(`cannot load ${src}: ${res.status} ${res.statusText}`);
          fragment = await linkOf(dedent(await res.text()));
        }
      } else if (text.trim()) {
        fragment = await linkOf(dedent(text));
      } else if (this.getAttribute('lab')) {
        fragment = await linkOf(`lab ${this.getAttribute('lab')}\n`);
      }
      const q = new URLSearchParams({ embed: '1' });
      for (const name of ['controls', 'view', 'speed', 'autoplay', 't']) {
        if (this.hasAttribute(name)) q.set(name, this.getAttribute(name));
      }
      this.#frame.src = `${site}?${q}${fragment ? '#' + fragment : ''}`;
    }

    #fail(err) {
      this.dispatchEvent(new CustomEvent('error', { detail: { error: String(err.message || err) } }));
    }

    #message(e) {
      if (!this.#frame || e.source !== this.#frame.contentWindow) return;
      const m = e.data;
      if (!m || m.api !== API) return;
      if (m.type === 'reply' || m.type === 'error') {
        const p = this.#pending.get(m.id);
        if (!p) return;
        this.#pending.delete(m.id);
        if (m.ok) p.ok(m.state);
        else p.fail(new Error(m.error));
      } else if (m.type === 'event') {
        if (m.event === 'ready') this.#readyResolve();
        const { api, version, type, ...detail } = m;
        this.dispatchEvent(new CustomEvent(m.event, { detail }));
      }
    }

    // One request, answered once the lab has done it.
    async #request(type, fields = {}) {
      await this.#ready;
      if (!this.#frame) throw new Error('the element is not on the page');
      const id = this.#next++;
      return new Promise((ok, fail) => {
        this.#pending.set(id, { ok, fail });
        this.#frame.contentWindow.postMessage({ api: API, version: VERSION, type, id, ...fields }, '*');
      });
    }

    play() { return this.#request('play'); }
    pause() { return this.#request('pause'); }
    step() { return this.#request('step'); }
    stepBack() { return this.#request('stepBack'); }
    seek(time) { return this.#request('seek', { time }); }
    setSpeed(speed) { return this.#request('speed', { speed }); }
    act(action) { return this.#request('act', { action }); }
    load(scenario) { return this.#request('load', { scenario: dedent(scenario) }); }
    takeOver() { return this.#request('takeOver'); }
    undo() { return this.#request('undo'); }
    setView(view) { return this.#request('view', { view }); }
    state() { return this.#request('get'); }
    get iframe() { return this.#frame; }
  }

  customElements.define('cluster-scope', ClusterScope);
})();

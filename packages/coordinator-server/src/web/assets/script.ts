// The dashboard's only client-side script, served by the coordinator itself
// (no framework, no CDN). Pages work without it; with it they are live:
// `data-live="refresh"` pages reload their `main` when the event stream
// (GET /ui/events, a view of the client API's /events) says something
// changed; a build page (`data-live="build"`) follows its log as it grows
// and refreshes its state, why and attempts when the build's events arrive.
// Forms with `data-confirm` ask first. Everything it inserts is text or
// HTML that the server rendered (and escaped).
export const SCRIPT = `(() => {
  'use strict';
  const BASE = '/ui';
  const TYPES = ['build-submitted', 'build-allocated', 'build-started', 'build-success', 'build-failure',
    'build-canceled', 'build-missing-inputs', 'build-priority-changed', 'build-released', 'agent-created',
    'agent-activated', 'agent-deactivated', 'agent-status', 'agent-credentials-revoked'];
  const LOG_LIMIT = 2 * 1024 * 1024;

  function subscribe(query, onEvent) {
    const source = new EventSource(BASE + '/events' + (query ? '?' + query : ''));
    for (const type of TYPES) source.addEventListener(type, (m) => onEvent(JSON.parse(m.data)));
    return source;
  }

  async function fetchPage() {
    const res = await fetch(location.href, { credentials: 'same-origin', headers: { Accept: 'text/html' } });
    if (!res.ok) return null;
    return new DOMParser().parseFromString(await res.text(), 'text/html');
  }

  function busy() {
    const a = document.activeElement;
    return a !== null && a.closest('main') !== null && ['INPUT', 'SELECT', 'TEXTAREA'].includes(a.tagName);
  }

  // Replaces the parts named by data-part with the fresh page's parts.
  async function refreshParts(selector) {
    const doc = await fetchPage();
    if (doc === null) return;
    for (const el of document.querySelectorAll(selector)) {
      const fresh = doc.querySelector('[data-part="' + el.dataset.part + '"]');
      if (fresh !== null) el.replaceWith(document.importNode(fresh, true));
    }
    document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || '0') + 1);
  }

  function debounce(fn, ms) {
    let timer = null;
    return () => {
      if (timer !== null) return;
      timer = setTimeout(() => { timer = null; if (busy()) return; fn(); }, ms);
    };
  }

  function refreshPage() {
    const refresh = debounce(() => void refreshParts('[data-part]'), 1000);
    subscribe(document.body.dataset.liveQuery || '', refresh);
  }

  async function followLog(pre) {
    const res = await fetch(pre.dataset.logUrl, { credentials: 'same-origin' });
    if (!res.ok || res.body === null) return false;
    pre.textContent = '';
    pre.dataset.following = 'true';
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      const text = done ? decoder.decode() : decoder.decode(value, { stream: true });
      if (text !== '') {
        const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
        pre.append(text);
        if (pre.textContent.length > LOG_LIMIT) pre.textContent = pre.textContent.slice(-LOG_LIMIT / 2);
        if (atEnd) pre.scrollTop = pre.scrollHeight;
      }
      if (done) break;
    }
    pre.dataset.following = 'ended';
    return true;
  }

  function buildPage() {
    const main = document.querySelector('[data-build]');
    if (main === null) return;
    const pre = document.getElementById('log');
    let following = false;
    const startLog = async () => {
      if (pre === null || following) return;
      following = true;
      if (!(await followLog(pre))) following = false;
    };
    // A started build's log may appear a moment after its start: try again until it is followed.
    let running = main.dataset.state === 'started';
    void startLog();
    const retry = setInterval(() => {
      if (pre === null || pre.dataset.following === 'ended') clearInterval(retry);
      else if (running && !following) void startLog();
    }, 1500);
    const refresh = debounce(() => void refreshParts('[data-part]'), 300);
    subscribe('build=' + encodeURIComponent(main.dataset.build), (event) => {
      if (event.type === 'build-started') running = true;
      if (event.state !== undefined && event.state !== 'started') running = false;
      if (running) void startLog();
      refresh();
    });
  }

  function confirmForms() {
    document.addEventListener('submit', (e) => {
      const form = e.target;
      if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm))
        e.preventDefault();
    });
  }

  confirmForms();
  if (document.body.dataset.live === 'refresh') refreshPage();
  if (document.body.dataset.live === 'build') buildPage();
})();
`;

// The only way level code reports a completion to the server (the README's "Playing" section): each completion is
// written to a per-user outbox in storage before it is sent, retried with backoff, and answered
// with one Outcome. Every side effect (fetch, storage, sleep, clock, randomness) is an argument,
// so the same file runs in the browser and under `node --test`.

export const OUTBOX_PREFIX = 'cyberquest.outbox.v1.';

/**
 * A completion waiting in the outbox until the server has answered it for good.
 * @typedef {object} OutboxEntry
 * @property {string} client_event_id  made once per completion; sent on every retry and every later flush
 * @property {object} payload          {level_id, level_type, score, time_spent, difficulty, metadata}
 * @property {string} created_at       ISO 8601 time the completion was reported
 * @property {number} attempts         requests that failed (transiently or with 401), over all page loads
 */

/**
 * What became of one completion.
 * - 'recorded': the server stored it now; `result` is the 200 body (awarded_xp, new_total_xp, …).
 * - 'already_counted': the server had it already (a replay); `result` holds the original award.
 * - 'rejected': a 4xx the player cannot fix by retrying; removed from the outbox; `error` to show.
 * - 'tracking_disabled': the server does not track this player (404 tracking_disabled); removed.
 * - 'needs_sign_in': 401; the entry stays in the outbox and is sent after the next sign-in.
 * - 'pending': every attempt failed (offline, 5xx, 429); it stays in the outbox for the next page load.
 * - 'local_only': tracking is off for this player; nothing was sent or stored.
 * @typedef {object} Outcome
 * @property {'recorded'|'already_counted'|'rejected'|'tracking_disabled'|'needs_sign_in'|'pending'|'local_only'} status
 * @property {string} [client_event_id]  which completion this is (absent for 'local_only')
 * @property {object} [result]           the server's 200 body
 * @property {{code: string, message: string, fields?: object}} [error]  the error envelope's `error`
 */

/**
 * Create the completion client for one signed-in player.
 * @param {object} options
 * @param {string|number} options.userId  the outbox is per user: another account on this browser never sends it
 * @param {boolean} [options.trackingEnabled=true]  false: local-only, nothing is sent or stored
 * @param {Function} options.fetch  a fetch function (window.fetch bound, or a fake)
 * @param {{getItem: Function, setItem: Function, removeItem: Function}} options.storage  localStorage or a fake
 * @param {(ms: number) => Promise<void>} options.sleep
 * @param {() => number} [options.random=Math.random]  for the backoff jitter
 * @param {() => number} [options.now=Date.now]  milliseconds since the epoch
 * @param {() => string} [options.newEventId]  a UUID v4 per completion
 * @param {string} [options.endpoint='/api/levels/complete']
 * @param {number} [options.maxAttempts=6]  attempts per send before leaving the entry for the next page load
 * @param {number} [options.baseDelayMs=1000]  retry k waits random() * min(maxDelayMs, baseDelayMs * 2**k)
 * @param {number} [options.maxDelayMs=60000]  also caps Retry-After
 * @param {(outbox: OutboxEntry[]) => void} [options.onChange]  called with the outbox whenever it changes
 * @returns {{reportCompletion: (payload: object) => Promise<Outcome>,
 *            flushOutbox: () => Promise<Outcome[]>, pending: () => OutboxEntry[]}}
 */
export function createCompletionClient({
  userId, trackingEnabled = true, fetch, storage, sleep,
  random = Math.random, now = () => Date.now(), newEventId = randomEventId,
  endpoint = '/api/levels/complete', maxAttempts = 6, baseDelayMs = 1000, maxDelayMs = 60000,
  onChange = () => {},
} = {}) {
  if (trackingEnabled && (userId === undefined || userId === null || userId === '')) {
    // Without a user the outbox would be shared by every account on this browser.
    throw new TypeError('createCompletionClient needs the signed-in userId when tracking is enabled');
  }
  const key = OUTBOX_PREFIX + userId;
  const inFlight = new Set(); // event ids this client is sending right now
  const counted = new Set(); // event ids this client has already reported as 'recorded'

  function read() {
    let raw = null;
    try {
      raw = storage.getItem(key);
    } catch {
      return []; // storage blocked by the browser: behave as an empty outbox, still send
    }
    if (raw === null || raw === undefined) return [];
    try {
      const entries = JSON.parse(raw);
      if (Array.isArray(entries)) return entries.filter((e) => e && typeof e.client_event_id === 'string' && e.payload);
    } catch {
      // fall through: a corrupt outbox must not break every later page load
    }
    write([]);
    return [];
  }

  function write(entries) {
    const json = JSON.stringify(entries);
    try {
      storage.setItem(key, json);
    } catch {
      // Quota or private mode: the outbox is best effort; sending now still beats losing the result.
    }
    onChange(JSON.parse(json));
  }

  // Re-read before every change: another tab may have changed the outbox meanwhile.
  function update(id, change) {
    const entries = read();
    const index = entries.findIndex((e) => e.client_event_id === id);
    if (index === -1) return;
    if (change === null) entries.splice(index, 1);
    else entries[index] = { ...entries[index], ...change };
    write(entries);
  }

  function backoff(retry, retryAfterMs) {
    const jittered = random() * Math.min(maxDelayMs, baseDelayMs * 2 ** retry);
    return Math.min(maxDelayMs, Math.max(retryAfterMs, jittered));
  }

  function retryAfterMs(response) {
    if (response.status !== 429 && response.status !== 503) return 0;
    const value = response.headers && response.headers.get('Retry-After');
    if (!value) return 0;
    if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
    const at = Date.parse(value);
    return Number.isNaN(at) ? 0 : Math.max(0, at - now());
  }

  // One request. Returns {outcome, keep} when the answer is final, or {retryAfter} when it is transient.
  async function attempt(entry) {
    const id = entry.client_event_id;
    let response;
    try {
      response = await fetch(endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        credentials: 'include',
        body: JSON.stringify({ ...entry.payload, client_event_id: id }),
      });
    } catch {
      return { retryAfter: 0 }; // offline, DNS, connection reset
    }
    const { status } = response;
    const body = await response.json().catch(() => null);
    if (status >= 200 && status < 300) {
      // A 2xx that is not our JSON (a captive portal's page) is transient: the event id makes a retry safe.
      if (!body || body.success !== true) return { retryAfter: 0 };
      const replayed = response.headers && response.headers.get('Idempotent-Replayed') === 'true';
      const isNew = body.is_new_completion === true && !replayed && !counted.has(id);
      if (isNew) counted.add(id);
      return { keep: false, outcome: { status: isNew ? 'recorded' : 'already_counted', client_event_id: id, result: body } };
    }
    if (status === 429 || status >= 500 || status < 400) return { retryAfter: retryAfterMs(response) };
    const error = body && body.error && typeof body.error.code === 'string'
      ? body.error
      : { code: `http_${status}`, message: `The server refused this result (HTTP ${status}).` };
    if (status === 401) return { keep: true, outcome: { status: 'needs_sign_in', client_event_id: id, error } };
    const refused = status === 404 && error.code === 'tracking_disabled' ? 'tracking_disabled' : 'rejected';
    return { keep: false, outcome: { status: refused, client_event_id: id, error } };
  }

  async function send(entry) {
    const id = entry.client_event_id;
    inFlight.add(id);
    try {
      let attempts = Number(entry.attempts) || 0;
      for (let retry = 0; ; retry++) {
        const answer = await attempt(entry);
        if (answer.outcome && !answer.keep) {
          update(id, null);
          return answer.outcome;
        }
        attempts += 1;
        update(id, { attempts });
        if (answer.outcome) return answer.outcome; // 401: retrying now cannot help
        if (retry + 1 >= maxAttempts) return { status: 'pending', client_event_id: id };
        await sleep(backoff(retry, answer.retryAfter));
      }
    } finally {
      inFlight.delete(id);
    }
  }

  return {
    async reportCompletion(payload) {
      if (!trackingEnabled) return { status: 'local_only' };
      const entry = { client_event_id: newEventId(), payload: { ...payload }, created_at: new Date(now()).toISOString(), attempts: 0 };
      write([...read(), entry]); // before sending: a closed tab or a crash must not lose the result
      return send(entry);
    },

    async flushOutbox() {
      if (!trackingEnabled) return [];
      const outcomes = [];
      for (const { client_event_id: id } of read()) {
        if (inFlight.has(id)) continue; // already being sent by a report or another flush
        const entry = read().find((e) => e.client_event_id === id);
        if (!entry) continue; // answered and removed while earlier entries were sent
        const outcome = await send(entry);
        outcomes.push(outcome);
        // Offline or signed out: the rest would fail the same way, so they wait for the next load.
        if (outcome.status === 'pending' || outcome.status === 'needs_sign_in') break;
      }
      return outcomes;
    },

    pending() {
      return read();
    },
  };
}

// crypto.randomUUID exists only in secure contexts (https, localhost); getRandomValues works on a
// plain-http LAN address too, and the server only asks for a UUID.
function randomEventId() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; // version 4
  b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

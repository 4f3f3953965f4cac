// Drives the completion client with a fake fetch, storage and clock: what the player's page and
// the server would see (requests, outcomes, the outbox), never private state.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { OUTBOX_PREFIX, createCompletionClient } from '../../app/static/js/simulated-pc/levels/completion-client.js';

const PAYLOAD = {
  level_id: 1, level_type: 'simulation', score: 850, time_spent: 120, difficulty: 'normal',
  metadata: { hints_used: 0, mistakes: 1 },
};
const OK = { success: true, completion_id: 7, awarded_xp: 83, new_total_xp: 83, is_new_completion: true, xp_breakdown: {}, level: {} };
const REPLAY = { ...OK, is_new_completion: false };

function fakeStorage(initial = {}) {
  const data = new Map(Object.entries(initial));
  return {
    data,
    writes: 0,
    getItem(k) { return data.has(k) ? data.get(k) : null; },
    setItem(k, v) { this.writes += 1; data.set(k, String(v)); },
    removeItem(k) { data.delete(k); },
  };
}

function respond(status, body, headers = {}) {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    ok: status >= 200 && status < 300,
    status,
    headers: { get: (name) => lower[name.toLowerCase()] ?? null },
    json: async () => { if (body === undefined) throw new SyntaxError('not JSON'); return body; },
  };
}

const networkError = () => { throw new TypeError('Failed to fetch'); };
const envelope = (code, message = 'nope', extra = {}) => ({ success: false, error: { code, message, ...extra } });

// answers: each a Response-like object or a function (init) => Response-like (may throw); the last repeats.
function scriptedFetch(...answers) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init, body: JSON.parse(init.body) });
    const answer = answers[Math.min(calls.length - 1, answers.length - 1)];
    return typeof answer === 'function' ? answer(init) : answer;
  };
  return { fetch, calls };
}

function makeClient(overrides = {}) {
  const delays = [];
  let n = 0;
  const storage = overrides.storage ?? fakeStorage();
  const client = createCompletionClient({
    userId: 42,
    storage,
    sleep: async (ms) => { delays.push(ms); },
    random: () => 1,
    now: () => Date.parse('2026-01-01T00:00:00Z'),
    newEventId: () => `event-${++n}`,
    ...overrides,
  });
  return { client, delays, storage };
}

const outboxOf = (storage, userId = 42) => JSON.parse(storage.getItem(OUTBOX_PREFIX + userId) ?? '[]');

test('the outbox holds the completion before fetch is called', async () => {
  const storage = fakeStorage();
  let seen;
  const { client } = makeClient({
    storage,
    fetch: async () => { seen = outboxOf(storage); return respond(200, OK); },
  });
  await client.reportCompletion(PAYLOAD);
  assert.deepEqual(seen, [{ client_event_id: 'event-1', payload: PAYLOAD, created_at: '2026-01-01T00:00:00.000Z', attempts: 0 }]);
});

test('the request is a JSON POST with credentials and the payload plus client_event_id', async () => {
  const { fetch, calls } = scriptedFetch(respond(200, OK));
  const { client } = makeClient({ fetch, endpoint: '/api/levels/complete' });
  await client.reportCompletion(PAYLOAD);
  assert.equal(calls.length, 1);
  assert.equal(calls[0].url, '/api/levels/complete');
  assert.equal(calls[0].init.method, 'POST');
  assert.deepEqual(calls[0].init.headers, { 'Content-Type': 'application/json' });
  assert.equal(calls[0].init.credentials, 'include');
  assert.deepEqual(calls[0].body, { ...PAYLOAD, client_event_id: 'event-1' });
});

test('a new completion is recorded and removed from the outbox', async () => {
  const { fetch } = scriptedFetch(respond(200, OK));
  const { client, storage } = makeClient({ fetch });
  const outcome = await client.reportCompletion(PAYLOAD);
  assert.deepEqual(outcome, { status: 'recorded', client_event_id: 'event-1', result: OK });
  assert.deepEqual(outboxOf(storage), []);
  assert.deepEqual(client.pending(), []);
});

test('retries back off exponentially with full jitter (random = 1)', async () => {
  const { fetch, calls } = scriptedFetch(respond(500, envelope('internal_error')));
  const { client, delays } = makeClient({ fetch, random: () => 1 });
  const outcome = await client.reportCompletion(PAYLOAD);
  assert.equal(outcome.status, 'pending');
  assert.equal(calls.length, 6);
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000]);
});

test('retries back off exponentially with full jitter (random = 0.5)', async () => {
  const { fetch } = scriptedFetch(respond(502, undefined));
  const { client, delays } = makeClient({ fetch, random: () => 0.5 });
  await client.reportCompletion(PAYLOAD);
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000]);
});

test('the backoff is capped at maxDelayMs', async () => {
  const { fetch } = scriptedFetch(respond(503, undefined));
  const { client, delays } = makeClient({ fetch, maxAttempts: 7, baseDelayMs: 1000, maxDelayMs: 5000 });
  await client.reportCompletion(PAYLOAD);
  assert.deepEqual(delays, [1000, 2000, 4000, 5000, 5000, 5000]);
});

test('every retry and every later flush sends the same client_event_id', async () => {
  const storage = fakeStorage();
  const first = scriptedFetch(networkError);
  await makeClient({ storage, fetch: first.fetch, maxAttempts: 3 }).client.reportCompletion(PAYLOAD);
  const second = scriptedFetch(respond(200, OK));
  await makeClient({ storage, fetch: second.fetch }).client.flushOutbox();
  const ids = [...first.calls, ...second.calls].map((c) => c.body.client_event_id);
  assert.deepEqual(ids, ['event-1', 'event-1', 'event-1', 'event-1']);
});

test('a 429 with Retry-After in seconds waits at least that long', async () => {
  const { fetch, calls } = scriptedFetch(respond(429, envelope('rate_limited'), { 'Retry-After': '30' }), respond(200, OK));
  const { client, delays } = makeClient({ fetch, random: () => 0.5 });
  const outcome = await client.reportCompletion(PAYLOAD);
  assert.equal(outcome.status, 'recorded');
  assert.equal(calls.length, 2);
  assert.deepEqual(delays, [30000]);
});

test('a Retry-After shorter than the jittered delay does not shorten it', async () => {
  const { fetch } = scriptedFetch(respond(429, envelope('rate_limited'), { 'Retry-After': '0' }), respond(200, OK));
  const { client, delays } = makeClient({ fetch, random: () => 1 });
  await client.reportCompletion(PAYLOAD);
  assert.deepEqual(delays, [1000]);
});

test('a 503 with Retry-After as an HTTP date waits until that date', async () => {
  const nowMs = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT');
  const { fetch } = scriptedFetch(
    respond(503, envelope('database_unavailable'), { 'Retry-After': 'Wed, 21 Oct 2026 07:28:45 GMT' }),
    respond(200, OK),
  );
  const { client, delays } = makeClient({ fetch, random: () => 0.5, now: () => nowMs });
  await client.reportCompletion(PAYLOAD);
  assert.deepEqual(delays, [45000]);
});

test('a Retry-After longer than maxDelayMs is capped at maxDelayMs', async () => {
  const { fetch } = scriptedFetch(respond(429, envelope('rate_limited'), { 'Retry-After': '3600' }), respond(200, OK));
  const { client, delays } = makeClient({ fetch });
  await client.reportCompletion(PAYLOAD);
  assert.deepEqual(delays, [60000]);
});

test('Retry-After on a plain 500 is ignored', async () => {
  const { fetch } = scriptedFetch(respond(500, undefined, { 'Retry-After': '30' }), respond(200, OK));
  const { client, delays } = makeClient({ fetch, random: () => 0.5 });
  await client.reportCompletion(PAYLOAD);
  assert.deepEqual(delays, [500]);
});

test('a network error and then a success is recorded once', async () => {
  const { fetch, calls } = scriptedFetch(networkError, respond(200, OK));
  const { client, delays, storage } = makeClient({ fetch });
  const outcome = await client.reportCompletion(PAYLOAD);
  assert.equal(outcome.status, 'recorded');
  assert.equal(calls.length, 2);
  assert.deepEqual(delays, [1000]);
  assert.deepEqual(outboxOf(storage), []);
});

test('a 2xx that is not the API JSON (captive portal) is retried', async () => {
  const { fetch, calls } = scriptedFetch(respond(200, undefined), respond(200, OK));
  const { client } = makeClient({ fetch });
  assert.equal((await client.reportCompletion(PAYLOAD)).status, 'recorded');
  assert.equal(calls.length, 2);
});

for (const [status, code] of [[400, 'validation_error'], [403, 'level_locked'], [409, 'idempotency_conflict'], [415, 'unsupported_media_type']]) {
  test(`a ${status} ${code} is not retried, is removed, and its error is surfaced`, async () => {
    const error = envelope(code, 'refused', status === 400 ? { fields: { score: ['too big'] } } : {});
    const { fetch, calls } = scriptedFetch(respond(status, error));
    const { client, delays, storage } = makeClient({ fetch });
    const outcome = await client.reportCompletion(PAYLOAD);
    assert.deepEqual(outcome, { status: 'rejected', client_event_id: 'event-1', error: error.error });
    assert.equal(calls.length, 1);
    assert.deepEqual(delays, []);
    assert.deepEqual(outboxOf(storage), []);
  });
}

test('a 4xx without the JSON envelope is rejected with an http_<status> error', async () => {
  const { fetch } = scriptedFetch(respond(413, undefined));
  const { client } = makeClient({ fetch });
  const outcome = await client.reportCompletion(PAYLOAD);
  assert.equal(outcome.status, 'rejected');
  assert.equal(outcome.error.code, 'http_413');
  assert.match(outcome.error.message, /413/);
});

test('a 404 tracking_disabled is reported as tracking_disabled and removed', async () => {
  const { fetch, calls } = scriptedFetch(respond(404, envelope('tracking_disabled')));
  const { client, storage } = makeClient({ fetch });
  const outcome = await client.reportCompletion(PAYLOAD);
  assert.equal(outcome.status, 'tracking_disabled');
  assert.equal(outcome.error.code, 'tracking_disabled');
  assert.equal(calls.length, 1);
  assert.deepEqual(outboxOf(storage), []);
});

test('a 404 with another code is an ordinary rejection', async () => {
  const { fetch } = scriptedFetch(respond(404, envelope('not_found')));
  const { client } = makeClient({ fetch });
  assert.equal((await client.reportCompletion(PAYLOAD)).status, 'rejected');
});

test('a 401 keeps the entry in the outbox without retrying, and it is sent after signing in again', async () => {
  const storage = fakeStorage();
  const signedOut = scriptedFetch(respond(401, envelope('authentication_required')));
  const { client, delays } = makeClient({ storage, fetch: signedOut.fetch });
  const outcome = await client.reportCompletion(PAYLOAD);
  assert.equal(outcome.status, 'needs_sign_in');
  assert.equal(outcome.error.code, 'authentication_required');
  assert.equal(signedOut.calls.length, 1);
  assert.deepEqual(delays, []);
  assert.equal(outboxOf(storage)[0].attempts, 1);

  const signedIn = scriptedFetch(respond(200, OK));
  const outcomes = await makeClient({ storage, fetch: signedIn.fetch }).client.flushOutbox();
  assert.deepEqual(outcomes.map((o) => o.status), ['recorded']);
  assert.equal(signedIn.calls[0].body.client_event_id, 'event-1');
  assert.deepEqual(outboxOf(storage), []);
});

test('a replay (is_new_completion false) is already_counted', async () => {
  const { fetch } = scriptedFetch(respond(200, REPLAY, { 'Idempotent-Replayed': 'true' }));
  const { client, storage } = makeClient({ fetch });
  assert.deepEqual(await client.reportCompletion(PAYLOAD), { status: 'already_counted', client_event_id: 'event-1', result: REPLAY });
  assert.deepEqual(outboxOf(storage), []);
});

test('when the first answer is lost, the retry gets the replay and nothing is counted twice', async () => {
  const recorded = new Set(); // a fake server: records once per event id, then replays
  const fetch = async (url, init) => {
    const { client_event_id: id } = JSON.parse(init.body);
    const isNew = !recorded.has(id);
    recorded.add(id);
    if (recorded.size === 1 && isNew) throw new TypeError('connection reset after the server committed');
    return respond(200, { ...OK, is_new_completion: isNew }, isNew ? {} : { 'Idempotent-Replayed': 'true' });
  };
  const { client } = makeClient({ fetch });
  const outcome = await client.reportCompletion(PAYLOAD);
  assert.equal(outcome.status, 'already_counted');
  assert.equal(recorded.size, 1);
});

test('an event id already reported as recorded is never reported as recorded again', async () => {
  // A stale tab writes the old outbox back, and a faulty answer claims the completion is new again.
  const { fetch } = scriptedFetch(respond(200, OK));
  const { client, storage } = makeClient({ fetch });
  let stale;
  storage.setItem = function (k, v) { stale ??= v; this.data.set(k, v); };
  assert.equal((await client.reportCompletion(PAYLOAD)).status, 'recorded');
  storage.data.set(OUTBOX_PREFIX + 42, stale);
  const outcomes = await client.flushOutbox();
  assert.deepEqual(outcomes.map((o) => o.status), ['already_counted']);
});

test('after maxAttempts failures the entry stays pending with its attempts counted', async () => {
  const { fetch, calls } = scriptedFetch(networkError);
  const { client, storage } = makeClient({ fetch, maxAttempts: 4 });
  const outcome = await client.reportCompletion(PAYLOAD);
  assert.deepEqual(outcome, { status: 'pending', client_event_id: 'event-1' });
  assert.equal(calls.length, 4);
  assert.equal(outboxOf(storage).length, 1);
  assert.equal(outboxOf(storage)[0].attempts, 4);
});

test('the outbox survives a reload and the next page flushes it with the same event id', async () => {
  const storage = fakeStorage();
  const offline = scriptedFetch(networkError);
  await makeClient({ storage, fetch: offline.fetch, maxAttempts: 2 }).client.reportCompletion(PAYLOAD);

  const online = scriptedFetch(respond(200, OK));
  const { client } = makeClient({ storage, fetch: online.fetch, newEventId: () => 'never-used' });
  assert.deepEqual(client.pending().map((e) => [e.client_event_id, e.attempts]), [['event-1', 2]]);
  const outcomes = await client.flushOutbox();
  assert.deepEqual(outcomes, [{ status: 'recorded', client_event_id: 'event-1', result: OK }]);
  assert.deepEqual(online.calls[0].body, { ...PAYLOAD, client_event_id: 'event-1' });
  assert.deepEqual(client.pending(), []);
});

test('a flush stops at the first entry that stays pending and leaves the rest for later', async () => {
  const storage = fakeStorage();
  const offline = scriptedFetch(networkError);
  const first = makeClient({ storage, fetch: offline.fetch, maxAttempts: 1 }).client;
  await first.reportCompletion(PAYLOAD);
  await first.reportCompletion({ ...PAYLOAD, level_id: 2 });
  const stillOffline = scriptedFetch(networkError);
  const outcomes = await makeClient({ storage, fetch: stillOffline.fetch, maxAttempts: 1 }).client.flushOutbox();
  assert.deepEqual(outcomes.map((o) => o.status), ['pending']);
  assert.equal(stillOffline.calls.length, 1);
  assert.equal(outboxOf(storage).length, 2);
});

for (const corrupt of ['{not json', '{"an": "object"}', 'null']) {
  test(`corrupt storage (${corrupt}) is an empty outbox, is overwritten, and never throws`, async () => {
    const storage = fakeStorage({ [OUTBOX_PREFIX + 42]: corrupt });
    const { fetch, calls } = scriptedFetch(networkError);
    const { client } = makeClient({ storage, fetch, maxAttempts: 1 });
    assert.deepEqual(client.pending(), []);
    assert.equal(storage.getItem(OUTBOX_PREFIX + 42), '[]');
    assert.deepEqual(await client.flushOutbox(), []);
    assert.equal(calls.length, 0);
    await client.reportCompletion(PAYLOAD);
    assert.deepEqual(outboxOf(storage).map((e) => e.client_event_id), ['event-1']);
  });
}

test('a storage that refuses writes still sends the completion', async () => {
  const storage = fakeStorage();
  storage.setItem = () => { throw new Error('QuotaExceededError'); };
  const { fetch, calls } = scriptedFetch(respond(200, OK));
  const { client } = makeClient({ storage, fetch });
  assert.equal((await client.reportCompletion(PAYLOAD)).status, 'recorded');
  assert.equal(calls.length, 1);
});

test('the outbox is per user: another account never sends it', async () => {
  const storage = fakeStorage();
  const offline = scriptedFetch(networkError);
  await makeClient({ storage, userId: 42, fetch: offline.fetch, maxAttempts: 1 }).client.reportCompletion(PAYLOAD);
  assert.deepEqual([...storage.data.keys()], ['cyberquest.outbox.v1.42']);

  const other = scriptedFetch(respond(200, OK));
  const otherClient = makeClient({ storage, userId: 7, fetch: other.fetch }).client;
  assert.deepEqual(otherClient.pending(), []);
  assert.deepEqual(await otherClient.flushOutbox(), []);
  assert.equal(other.calls.length, 0);
  assert.equal(outboxOf(storage, 42).length, 1);
});

test('a client with tracking enabled and no userId is refused', () => {
  assert.throws(() => makeClient({ userId: undefined, fetch: async () => respond(200, OK) }), TypeError);
});

test('two flushes at once never send the same entry twice', async () => {
  const storage = fakeStorage();
  const offline = scriptedFetch(networkError);
  const seed = makeClient({ storage, fetch: offline.fetch, maxAttempts: 1 }).client;
  await seed.reportCompletion(PAYLOAD);
  await seed.reportCompletion({ ...PAYLOAD, level_id: 2 });

  const sent = [];
  const releases = [];
  const fetch = (url, init) => {
    sent.push(JSON.parse(init.body).client_event_id);
    return new Promise((resolve) => releases.push(() => resolve(respond(200, OK))));
  };
  const { client } = makeClient({ storage, fetch });
  const flushes = [client.flushOutbox(), client.flushOutbox(), client.flushOutbox()];
  for (let tick = 0; tick < 20; tick++) { // answer every request, duplicates included, so a bug fails rather than hangs
    await new Promise((r) => setImmediate(r));
    releases.splice(0).forEach((release) => release());
  }
  const outcomes = (await Promise.all(flushes)).flat();
  assert.deepEqual(sent.sort(), ['event-1', 'event-2']);
  assert.deepEqual(outcomes.map((o) => o.client_event_id).sort(), ['event-1', 'event-2']);
  assert.deepEqual(client.pending(), []);
});

test('a flush while a report is being sent does not send that report again', async () => {
  const sent = [];
  const releases = [];
  const fetch = (url, init) => {
    sent.push(JSON.parse(init.body).client_event_id);
    return new Promise((resolve) => releases.push(() => resolve(respond(200, OK))));
  };
  const { client } = makeClient({ fetch });
  const report = client.reportCompletion(PAYLOAD);
  const flush = client.flushOutbox();
  await new Promise((r) => setImmediate(r));
  releases.splice(0).forEach((release) => release());
  assert.equal((await report).status, 'recorded');
  assert.deepEqual(await flush, []);
  assert.deepEqual(sent, ['event-1']);
});

test('the default event id is a UUID v4, also where crypto.randomUUID is missing (plain http)', async () => {
  const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const { fetch, calls } = scriptedFetch(respond(200, OK));
  const { client } = makeClient({ fetch, newEventId: undefined });
  const randomUUID = crypto.randomUUID;
  await client.reportCompletion(PAYLOAD);
  crypto.randomUUID = undefined;
  try {
    await client.reportCompletion(PAYLOAD);
  } finally {
    crypto.randomUUID = randomUUID;
  }
  const [first, second] = calls.map((c) => c.body.client_event_id);
  assert.match(first, UUID_V4);
  assert.match(second, UUID_V4);
  assert.notEqual(first, second);
});

test('with tracking disabled nothing is sent or stored and the outcome is local_only', async () => {
  const storage = fakeStorage();
  let fetched = 0;
  const { client } = makeClient({
    storage, userId: undefined, trackingEnabled: false,
    fetch: async () => { fetched += 1; return respond(200, OK); },
  });
  assert.deepEqual(await client.reportCompletion(PAYLOAD), { status: 'local_only' });
  assert.deepEqual(await client.flushOutbox(), []);
  assert.equal(fetched, 0);
  assert.equal(storage.writes, 0);
  assert.equal(storage.data.size, 0);
});

test('onChange sees the outbox when an entry is added and when it is removed', async () => {
  const seen = [];
  const { fetch } = scriptedFetch(respond(200, OK));
  const { client } = makeClient({ fetch, onChange: (outbox) => seen.push(outbox.map((e) => e.client_event_id)) });
  await client.reportCompletion(PAYLOAD);
  assert.deepEqual(seen, [['event-1'], []]);
});

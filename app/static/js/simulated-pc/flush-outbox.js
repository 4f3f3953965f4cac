// On every page of a signed-in player: send completions left in this browser's outbox by an
// earlier page (a closed tab, a lost connection), so nothing a player earned is lost.

import { createCompletionClient } from './levels/completion-client.js';

const player = document.querySelector('meta[name="cyberquest-player"]');
if (player && player.dataset.tracked === 'true') {
  createCompletionClient({
    userId: player.content,
    trackingEnabled: true,
    fetch: window.fetch.bind(window),
    storage: window.localStorage,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  }).flushOutbox();
}

// The simulated PC: a desktop with icons, draggable windows, a taskbar with the level timer,
// a hint button that counts hints and a mistake counter. Level modules drive it through the
// `pc` object that createPC returns; they never touch the page outside their windows.

import { clock, h, icon, replace } from './dom.js';

const WINDOW_OFFSET = 28;

/**
 * Build the simulated PC inside `root` for one play of `level`.
 * @param {HTMLElement} root
 * @param {{level: object, difficulty: string, now?: () => number}} options
 */
export function createPC(root, { level, difficulty, now = () => Date.now() }) {
  const startedAt = now();
  const state = { hints: 0, mistakes: 0, finished: false, z: 10, opened: 0 };
  const windows = new Map();
  const finishListeners = [];
  let hintProvider = () => 'Take another careful look at what is in front of you.';

  const iconsEl = h('div', { class: 'sim-icons', 'data-testid': 'desktop-icons' });
  const layer = h('div', { class: 'sim-windows' });
  const toasts = h('div', { class: 'sim-toasts', 'aria-live': 'polite' });
  const taskButtons = h('div', { class: 'sim-task-buttons' });
  const timerEl = h('span', { class: 'sim-timer', 'data-testid': 'timer' }, '0:00');
  const mistakesEl = h('span', { 'data-testid': 'mistakes' }, '0');
  const hintsEl = h('span', { 'data-testid': 'hints-used' }, '0');
  const hintButton = h(
    'button',
    { class: 'btn btn-sm btn-outline-warning', type: 'button', 'data-testid': 'hint-button' },
    icon('bi-lightbulb'), ' Hint (', hintsEl, ')',
  );
  const desktop = h('div', { class: 'sim-desktop', 'data-testid': 'desktop' }, iconsEl, layer, toasts);
  const taskbar = h(
    'div',
    { class: 'sim-taskbar' },
    h('span', { class: 'sim-start' }, icon(level.icon || 'bi-shield-lock'), ' ', level.name),
    taskButtons,
    h(
      'div',
      { class: 'sim-status' },
      h('span', { class: 'badge text-bg-secondary', 'data-testid': 'difficulty-mode' }, difficulty),
      h('span', { title: 'Mistakes' }, icon('bi-x-octagon'), ' ', mistakesEl),
      hintButton,
      h('span', { title: 'Time' }, icon('bi-stopwatch'), ' ', timerEl),
    ),
  );
  replace(root, desktop, taskbar);

  const ticker = setInterval(() => {
    timerEl.textContent = clock(pc.elapsedSeconds());
  }, 1000);

  hintButton.addEventListener('click', () => {
    if (state.finished) return;
    state.hints += 1;
    hintsEl.textContent = String(state.hints);
    const text = hintProvider();
    const win = pc.openWindow({ id: 'hint', title: 'Hint', icon: 'bi-lightbulb', width: 340, height: 170 });
    replace(win.body, h('p', { class: 'mb-0', 'data-testid': 'hint-text' }, text));
  });

  function focus(win) {
    state.z += 1;
    win.el.style.zIndex = String(state.z);
    for (const other of windows.values()) other.el.classList.toggle('active', other === win);
  }

  function makeDraggable(win, handle) {
    handle.addEventListener('pointerdown', (event) => {
      if (event.target.closest('button')) return;
      const box = win.el.getBoundingClientRect();
      const area = desktop.getBoundingClientRect();
      const dx = event.clientX - box.left;
      const dy = event.clientY - box.top;
      const move = (e) => {
        const x = Math.min(Math.max(0, e.clientX - area.left - dx), area.width - 80);
        const y = Math.min(Math.max(0, e.clientY - area.top - dy), area.height - 40);
        win.el.style.left = `${x}px`;
        win.el.style.top = `${y}px`;
      };
      const stop = () => {
        window.removeEventListener('pointermove', move);
        window.removeEventListener('pointerup', stop);
      };
      window.addEventListener('pointermove', move);
      window.addEventListener('pointerup', stop);
    });
  }

  const pc = {
    level,
    difficulty,

    /** Seconds since the level started. */
    elapsedSeconds() {
      return Math.floor((now() - startedAt) / 1000);
    },

    /** Put an icon on the desktop; `open` runs on a double click (or Enter). */
    addIcon({ id, label, icon: iconName, open }) {
      const button = h(
        'button',
        { class: 'sim-icon', type: 'button', 'data-testid': `icon-${id}`, ondblclick: open },
        icon(iconName, 'fs-2'),
        h('span', {}, label),
      );
      button.addEventListener('keydown', (event) => {
        if (event.key === 'Enter') open();
      });
      iconsEl.append(button);
      return button;
    },

    /** Open (or bring to front) a window; returns {body, setTitle, close}. `left`/`top` place it. */
    openWindow({ id, title, icon: iconName = 'bi-window', width = 560, height = 380, left, top }) {
      if (windows.has(id)) {
        const existing = windows.get(id);
        existing.el.hidden = false;
        focus(existing);
        return existing;
      }
      const titleText = h('span', {}, title);
      const closeButton = h(
        'button',
        { class: 'btn-close btn-close-white btn-sm', type: 'button', 'aria-label': `Close ${title}` },
      );
      const bar = h('div', { class: 'sim-titlebar' }, icon(iconName), ' ', titleText, closeButton);
      const body = h('div', { class: 'sim-window-body' });
      const offset = (state.opened % 6) * WINDOW_OFFSET;
      state.opened += 1;
      const x = left ?? 120 + offset;
      const y = top ?? 16 + offset;
      // Never wider or taller than the room left on the desktop (it may be a small screen).
      const fitWidth = Math.max(280, Math.min(width, (desktop.clientWidth || width + x) - x - 8));
      const fitHeight = Math.max(160, Math.min(height, (desktop.clientHeight || height + y) - y - 8));
      const el = h(
        'section',
        {
          class: 'sim-window',
          role: 'dialog',
          'aria-label': title,
          'data-testid': `window-${id}`,
          // Windows open right of the icon column, so the icons stay reachable.
          style: { width: `${fitWidth}px`, height: `${fitHeight}px`, left: `${x}px`, top: `${y}px` },
        },
        bar,
        body,
      );
      const taskButton = h('button', { class: 'btn btn-sm btn-dark', type: 'button' }, icon(iconName), ' ', title);
      const win = {
        id,
        el,
        body,
        setTitle(text) {
          titleText.textContent = text;
          taskButton.lastChild.textContent = ` ${text}`;
        },
        close() {
          el.remove();
          taskButton.remove();
          windows.delete(id);
        },
      };
      closeButton.addEventListener('click', () => win.close());
      taskButton.addEventListener('click', () => {
        el.hidden = false;
        focus(win);
      });
      el.addEventListener('pointerdown', () => focus(win));
      makeDraggable(win, bar);
      layer.append(el);
      taskButtons.append(taskButton);
      windows.set(id, win);
      focus(win);
      return win;
    },

    /** A short message in the corner of the desktop. */
    notify(text, kind = 'info') {
      const toast = h('div', { class: `sim-toast alert alert-${kind} py-2 px-3 mb-2`, role: 'status' }, text);
      toasts.append(toast);
      setTimeout(() => toast.remove(), 4000);
    },

    /** Count a wrong decision (it shows in the taskbar and is reported with the result). */
    recordMistake(note) {
      if (state.finished) return;
      state.mistakes += 1;
      mistakesEl.textContent = String(state.mistakes);
      if (note) pc.notify(note, 'danger');
    },

    /** The level tells the hint button what to say for the current situation. */
    setHintProvider(provider) {
      hintProvider = provider;
    },

    get hintsUsed() {
      return state.hints;
    },

    get mistakes() {
      return state.mistakes;
    },

    get isFinished() {
      return state.finished;
    },

    /** The desktop's inner size in px, for a level that lays several windows out together. */
    get desktopSize() {
      return { width: desktop.clientWidth, height: desktop.clientHeight };
    },

    /** Called with the result when the level ends. */
    onFinish(listener) {
      finishListeners.push(listener);
    },

    /**
     * End the level with the score the player earned (0..level.max_score). Only the first call
     * counts; the desktop is locked afterwards.
     */
    finish({ score, summary = [] }) {
      if (state.finished) return null;
      state.finished = true;
      clearInterval(ticker);
      const bounded = Math.max(0, Math.min(level.max_score, Math.round(score)));
      const result = {
        score: bounded,
        time_spent: pc.elapsedSeconds(),
        hints_used: state.hints,
        mistakes: state.mistakes,
        summary,
      };
      timerEl.textContent = clock(result.time_spent);
      root.classList.add('sim-finished');
      hintButton.disabled = true;
      for (const listener of finishListeners) listener(result);
      return result;
    },
  };
  return pc;
}

// Tiny DOM helpers shared by the simulated PC and its levels (no framework needed).

/**
 * Create an element: h('button', {class: 'btn', onclick: fn, dataset: {id: 1}}, 'Text', child).
 * Props starting with "on" become listeners; `dataset` and `style` objects are merged;
 * null/false children are skipped; strings become text nodes (never parsed as HTML).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === 'dataset' || key === 'style') {
      Object.assign(el[key], value);
    } else if (key === 'class') {
      el.className = value;
    } else if (value === true) {
      el.setAttribute(key, '');
    } else {
      el.setAttribute(key, value);
    }
  }
  append(el, children);
  return el;
}

/** Append children (nodes, strings, numbers, nested arrays) to an element. */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** An icon from Bootstrap Icons. */
export function icon(name, extraClass = '') {
  return h('i', { class: `bi ${name} ${extraClass}`.trim(), 'aria-hidden': 'true' });
}

/** Format seconds as m:ss. */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** Add level `levelId`'s stylesheet (static/css/levels/level-<id>.css) to the page, once. */
export function loadLevelStylesheet(levelId) {
  const href = new URL(`../../css/levels/level-${levelId}.css`, import.meta.url).pathname;
  if (document.querySelector(`link[rel="stylesheet"][href="${href}"]`)) return;
  document.head.append(h('link', { rel: 'stylesheet', href }));
}

/**
 * Scroll `container` (a window's body) so that `el`, inside it, is at its top. Unlike
 * el.scrollIntoView(), this leaves the clipped desktop behind the window where it is.
 */
export function scrollWithin(container, el) {
  container.scrollTop += el.getBoundingClientRect().top - container.getBoundingClientRect().top;
}

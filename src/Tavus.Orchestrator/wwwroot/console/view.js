// Small DOM and time helpers: text goes in as text (never as markup), times are shown in UTC.

export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'dataset') Object.assign(node.dataset, value);
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (name in node && name !== 'list') node[name] = value;
    else node.setAttribute(name, value === true ? '' : value);
  }
  node.append(...children.flat().filter(c => c !== undefined && c !== null && c !== false));
  return node;
}

export const utc = iso => (iso ? iso.replace('T', ' ').replace(/\.\d+/, '').replace('Z', ' UTC') : '—');

export function time(iso) {
  return iso ? h('time', { dateTime: iso }, utc(iso)) : '—';
}

/** 90 → "1:30", 3700 → "1:01:40". */
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const hours = Math.floor(s / 3600), minutes = Math.floor((s % 3600) / 60), rest = s % 60;
  const mm = hours > 0 ? String(minutes).padStart(2, '0') : String(minutes);
  return `${hours > 0 ? `${hours}:` : ''}${mm}:${String(rest).padStart(2, '0')}`;
}

/** A cell that counts down to an instant; the page's ticker rewrites it every second. */
export function countdown(untilIso) {
  const cell = h('span', { className: 'countdown', dataset: { until: untilIso } });
  tick(cell, Date.now());
  return cell;
}

export function tick(cell, now) {
  const left = (Date.parse(cell.dataset.until) - now) / 1000;
  cell.textContent = left > 0 ? duration(left) : `passed ${duration(-left)} ago`;
  cell.classList.toggle('soon', left > 0 && left <= 60);
  cell.classList.toggle('passed', left <= 0);
}

export const statusBadge = status => h('span', { className: `badge ${status}` }, status);

/** Replaces a table body's rows, keeping keyboard focus on the same control if it is still there. */
export function replaceRows(tbody, rows) {
  const focused = document.activeElement?.dataset?.focusKey;
  tbody.replaceChildren(...rows);
  if (focused) tbody.querySelector(`[data-focus-key="${CSS.escape(focused)}"]`)?.focus();
}

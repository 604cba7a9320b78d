// Inline SVG charts, drawn with DOM calls (the page's CSP allows no inline markup or style).
const svgNs = 'http://www.w3.org/2000/svg';

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(svgNs, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  node.append(...children);
  return node;
}

function titled(tag, attributes, title) {
  return svg(tag, attributes, svg('title', {}, title));
}

/** Bars of minutes per UTC day; each bar's title names its day and minutes. */
export function minutesPerDay(buckets) {
  const width = 8, gap = 2, height = 48;
  const max = Math.max(1, ...buckets.map(b => b.minutes));
  const total = buckets.reduce((sum, b) => sum + b.minutes, 0);
  const chart = svg('svg', {
    viewBox: `0 0 ${Math.max(1, buckets.length) * (width + gap)} ${height + 1}`,
    class: 'chart minutes', role: 'img', preserveAspectRatio: 'none',
    'aria-label': `Minutes per day: ${total.toFixed(1)} minutes over ${buckets.length} days, at most ${max.toFixed(1)} in a day`,
  });
  buckets.forEach((bucket, i) => {
    const h = bucket.minutes === 0 ? 0 : Math.max(1, (bucket.minutes / max) * height);
    chart.append(titled('rect', { x: i * (width + gap), y: height - h, width, height: h, class: 'bar' },
      `${bucket.start.slice(0, 10)}: ${bucket.minutes.toFixed(1)} min, ${bucket.ended} ended, ${bucket.failed} failed`));
  });
  chart.append(svg('line', { x1: 0, x2: buckets.length * (width + gap), y1: height + 0.5, y2: height + 0.5, class: 'axis' }));
  return chart;
}

/** One stacked bar of ends by reason, with a legend that says the counts in words. */
export function endsByReason(byReason) {
  const entries = Object.entries(byReason).sort((a, b) => b[1] - a[1]);
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  const figure = document.createElement('figure');
  figure.className = 'ends-by-reason';
  if (total === 0) {
    figure.append(Object.assign(document.createElement('figcaption'), { textContent: 'No ends this month.' }));
    return figure;
  }
  const bar = svg('svg', { viewBox: '0 0 100 6', class: 'chart stack', role: 'presentation', preserveAspectRatio: 'none' });
  const legend = document.createElement('ul');
  legend.className = 'legend';
  let x = 0;
  entries.forEach(([reason, count], i) => {
    const w = (count / total) * 100;
    bar.append(titled('rect', { x, y: 0, width: w, height: 6, class: `reason r${i % 6}` }, `${reason}: ${count}`));
    x += w;
    const item = document.createElement('li');
    item.append(svg('svg', { viewBox: '0 0 1 1', class: `swatch r${i % 6}`, 'aria-hidden': 'true' }, svg('rect', { width: 1, height: 1 })),
      ` ${reason}: ${count}`);
    legend.append(item);
  });
  const caption = Object.assign(document.createElement('figcaption'), { textContent: `Ends by reason (${total})` });
  figure.append(caption, bar, legend);
  return figure;
}

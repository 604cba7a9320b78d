// The operator console: sign-in, the live floor, one conversation's live timeline, tenants, failures.
import { api, followEvents, Refused, session } from './api.js';
import { endsByReason, minutesPerDay } from './chart.js';
import { countdown, duration, h, replaceRows, statusBadge, tick, time, utc } from './view.js';

const $ = id => document.getElementById(id);
const liveStatuses = ['pending', 'created', 'active'];
const state = { live: [], timers: [], detail: null };

function say(text) { $('status-line').textContent = text; }

function signedOut(message = '') {
  session.key = null;
  state.timers.forEach(clearTimeout);
  state.timers = [];
  closeDetail();
  $('floor').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in').hidden = false;
  $('sign-in-error').textContent = message;
  $('admin-key').focus();
}

/** Runs a refresh now and every interval while signed in; a refused key signs out. */
function every(ms, refresh) {
  const run = async () => {
    try {
      await refresh();
    } catch (error) {
      if (error instanceof Refused) return signedOut(`The key was refused: ${error.message}`);
      say(`Could not refresh: ${error.message}`);
    }
    if (session.key) state.timers.push(setTimeout(run, ms));
  };
  return run();
}

async function signIn(key) {
  session.key = key;
  try {
    await api('/admin/tenants');
  } catch (error) {
    return signedOut(error instanceof Refused ? `The key was refused: ${error.message}` : `Could not reach the service: ${error.message}`);
  }
  $('sign-in').hidden = true;
  $('sign-in-error').textContent = '';
  $('floor').hidden = false;
  $('sign-out').hidden = false;
  $('main').focus();
  say('Signed in.');
  await every(2000, refreshConversations);
  every(10000, refreshTenants);
  every(5000, refreshNotifications);
}

const openButton = c => h('button', {
  type: 'button', className: 'link', dataset: { focusKey: `open-${c.conversation_id}` },
  onclick: () => openConversation(c.conversation_id), 'aria-label': `Open conversation ${c.conversation_id}`,
}, c.conversation_id);

async function refreshConversations() {
  const pages = await Promise.all(liveStatuses.map(s => api(`/admin/conversations?status=${s}&limit=100`)));
  state.live = pages.flatMap(p => p.data).sort((a, b) => a.deadline_at.localeCompare(b.deadline_at));
  replaceRows($('live').tBodies[0], state.live.map(c => {
    const p = c.properties;
    const absentAt = new Date(Date.parse(c.created_at) + p.participant_absent_timeout * 1000).toISOString();
    const absentApplies = p.participant_absent_timeout > 0 && absentAt < c.deadline_at;
    return h('tr', { dataset: { conversation: c.conversation_id } },
      h('th', { scope: 'row' }, openButton(c), c.conversation_name ? h('div', { className: 'hint' }, c.conversation_name) : null),
      h('td', {}, c.tenant_id),
      h('td', { className: 'status' }, statusBadge(c.status)),
      h('td', {}, countdown(c.deadline_at)),
      h('td', {}, absentApplies ? countdown(absentAt) : h('span', { className: 'hint' }, 'off')),
      h('td', {}, p.participant_left_timeout > 0 ? `${duration(p.participant_left_timeout)} after the last leaves` : h('span', { className: 'hint' }, 'off')),
      h('td', {}, h('button', {
        type: 'button', className: 'danger', dataset: { focusKey: `end-${c.conversation_id}` },
        onclick: () => endConversation(c.conversation_id), 'aria-label': `End conversation ${c.conversation_id}`,
      }, 'End')));
  }));
  $('live-count').textContent = `(${state.live.length})`;
  $('live-empty').hidden = state.live.length > 0;

  const recent = await api('/admin/conversations?limit=100');
  const over = recent.data.filter(c => !liveStatuses.includes(c.status)).slice(0, 15);
  replaceRows($('ends').tBodies[0], over.map(c => h('tr', { dataset: { conversation: c.conversation_id } },
    h('th', { scope: 'row' }, openButton(c)),
    h('td', {}, c.tenant_id),
    h('td', { className: 'status' }, statusBadge(c.status)),
    h('td', {}, time(c.ended_at ?? c.created_at)),
    h('td', {}, c.end_reason ?? (c.status === 'failed' ? 'Tavus never accepted it' : '—')))));
  $('ends-empty').hidden = over.length > 0;
}

async function refreshTenants() {
  const [tenants, usage] = await Promise.all([api('/admin/tenants'), api('/admin/usage')]);
  const byTenant = new Map(usage.tenants.map(t => [t.tenant_id, t]));
  const liveOf = id => state.live.filter(c => c.tenant_id === id).length;
  // Charts for the busiest tenants this month; the rest show their policy and counts.
  const charted = new Set([...byTenant.values()].sort((a, b) => b.minutes - a.minutes).slice(0, 12).map(t => t.tenant_id));
  const reports = new Map(await Promise.all([...charted].map(async id =>
    [id, await api(`/admin/tenants/${encodeURIComponent(id)}/usage?granularity=day`)])));
  // Nearest its cap first: live conversations against the concurrency cap, minutes against the quota.
  const load = t => Math.max(t.policy.max_concurrent_conversations ? liveOf(t.id) / t.policy.max_concurrent_conversations : 0,
    t.policy.max_minutes_per_month ? (byTenant.get(t.id)?.minutes ?? 0) / t.policy.max_minutes_per_month : 0);
  const ordered = [...tenants].sort((a, b) => load(b) - load(a) || a.id.localeCompare(b.id));
  $('tenants').replaceChildren(...ordered.map(t => tenantCard(t, byTenant.get(t.id), liveOf(t.id), reports.get(t.id))));
}

function meter(label, value, max) {
  if (!max) return h('p', { className: 'cap' }, `${label}: ${value} (no cap)`);
  const ratio = value / max;
  return h('p', { className: `cap${ratio >= 1 ? ' full' : ratio >= 0.8 ? ' near' : ''}` },
    h('label', {}, `${label}: ${value} of ${max} `, h('meter', { min: 0, max, value, low: max * 0.8, high: max * 0.99, optimum: 0 })));
}

function tenantCard(tenant, usage, live, report) {
  const p = tenant.policy;
  const timer = (name, b) => h('li', {}, `${name}: ${duration(b.default)} (${duration(b.min)}–${duration(b.max)})`);
  const minutes = usage?.minutes ?? 0;
  return h('article', { className: `tenant${tenant.disabled ? ' disabled' : ''}`, 'aria-label': `Tenant ${tenant.id}` },
    h('h3', {}, tenant.name, ' ', h('code', {}, tenant.id), tenant.disabled ? h('span', { className: 'badge failed' }, 'disabled') : null),
    meter('Live conversations', live, p.max_concurrent_conversations),
    meter('Minutes ended this month', Math.round(minutes * 10) / 10, p.max_minutes_per_month),
    h('details', {}, h('summary', {}, `Policy (${p.enforcement})`),
      h('ul', { className: 'policy' }, timer('max call', p.max_call_duration), timer('left timeout', p.participant_left_timeout),
        timer('absent timeout', p.participant_absent_timeout))),
    h('p', { className: 'hint' }, `This month: ${usage?.conversations ?? 0} conversations, ${usage?.ended ?? 0} ended, ${usage?.failed ?? 0} failed`),
    report ? h('figure', { className: 'usage' }, h('figcaption', {}, 'Minutes per day'), minutesPerDay(report.buckets)) : null,
    endsByReason(usage?.by_end_reason ?? {}));
}

async function refreshNotifications() {
  const failed = await api('/admin/notifications/messages?status=failed&limit=50');
  replaceRows($('notifications').tBodies[0], failed.data.map(m => {
    const last = m.attempts.at(-1);
    return h('tr', {},
      h('th', { scope: 'row' }, h('code', {}, m.id)),
      h('td', {}, m.tenant_id),
      h('td', {}, m.type),
      h('td', {}, m.conversation_id),
      h('td', {}, last ? [time(last.attempted_at), ` — ${last.status_code ?? last.error ?? ''}`] : 'never attempted'),
      h('td', {}, h('button', {
        type: 'button', dataset: { focusKey: `retry-${m.id}` }, 'aria-label': `Retry message ${m.id}`,
        onclick: async () => { await act(() => api(`/admin/notifications/messages/${encodeURIComponent(m.id)}/retry`, { method: 'POST' }), `Message ${m.id} will be sent again now.`); await refreshNotifications(); },
      }, 'Retry')));
  }));
  $('notifications-empty').hidden = failed.data.length > 0;
}

async function act(action, done) {
  try {
    await action();
    say(done);
  } catch (error) {
    if (error instanceof Refused) return signedOut(`The key was refused: ${error.message}`);
    say(`Failed: ${error.message}`);
  }
}

async function endConversation(id) {
  if (!confirm(`End conversation ${id}? Tavus will close the call for everyone in it.`)) return;
  await act(() => api(`/admin/conversations/${encodeURIComponent(id)}/end`, { method: 'POST' }), `End requested for ${id}.`);
  if (state.detail?.id === id) await showFacts(id);
}

async function showFacts(id) {
  const c = await api(`/admin/conversations/${encodeURIComponent(id)}`);
  if (state.detail?.id !== id) return;
  const fact = (name, value) => [h('dt', {}, name), h('dd', {}, value ?? '—')];
  const live = liveStatuses.includes(c.status);
  $('detail-facts').replaceChildren(
    ...fact('Tenant', c.tenant_id), ...fact('Status', statusBadge(c.status)), ...fact('Name', c.conversation_name),
    ...fact('Created', time(c.created_at)),
    ...fact('Deadline', live ? [time(c.deadline_at), ' — in ', countdown(c.deadline_at)] : time(c.deadline_at)),
    ...fact('Timers', `max ${duration(c.properties.max_call_duration)}, left ${duration(c.properties.participant_left_timeout)}, absent ${duration(c.properties.participant_absent_timeout)}`),
    ...(c.ended_at ? fact('Ended', time(c.ended_at)) : []),
    ...(c.end_reason ? fact('End reason', c.shutdown_reason ? `${c.end_reason} (${c.shutdown_reason})` : c.end_reason) : []),
    ...(c.failure_detail ? fact('Failure', c.failure_detail) : []),
    ...(c.conversation_url ? fact('Room', /^https?:\/\//.test(c.conversation_url)
      ? h('a', { href: c.conversation_url, rel: 'noreferrer', target: '_blank' }, c.conversation_url) : c.conversation_url) : []));
  $('detail-end').hidden = !live;
}

function closeDetail({ refocus = false } = {}) {
  const id = state.detail?.id;
  state.detail?.stream.abort();
  state.detail = null;
  $('detail').hidden = true;
  // Back to where the operator came from: the conversation's own button, else the page.
  if (refocus) (document.querySelector(`[data-focus-key="${CSS.escape(`open-${id}`)}"]`) ?? $('main')).focus();
}

async function openConversation(id) {
  closeDetail();
  const stream = new AbortController();
  state.detail = { id, stream };
  $('detail-id').textContent = id;
  $('timeline').replaceChildren();
  $('timeline-state').textContent = '(live)';
  $('detail').hidden = false;
  $('detail-heading').focus();
  await act(() => showFacts(id), `Showing conversation ${id}.`);
  followEvents(`/admin/conversations/${encodeURIComponent(id)}/events`, (kind, e) => {
    $('timeline').append(h('li', { className: `event ${e.kind}` },
      h('span', { className: 'kind' }, e.kind.replaceAll('_', ' ')), ' ', time(e.occurred_at), ' ',
      h('span', { className: 'hint' }, `${e.event_type} · ${e.source}`),
      e.properties?.shutdown_reason ? h('div', {}, e.properties.shutdown_reason) : null));
    if (e.kind === 'replica_joined' || e.kind === 'ended') showFacts(id).catch(() => {});
  }, stream.signal)
    .then(() => { if (state.detail?.stream === stream) $('timeline-state').textContent = '(complete)'; })
    .catch(error => {
      if (error instanceof Refused) signedOut(`The key was refused: ${error.message}`);
      else if (!stream.signal.aborted) $('timeline-state').textContent = `(stopped: ${error.message})`;
    });
}

$('sign-in').addEventListener('submit', event => {
  event.preventDefault();
  signIn($('admin-key').value.trim());
  $('admin-key').value = '';
});
$('sign-out').addEventListener('click', () => signedOut('Signed out.'));
$('detail-close').addEventListener('click', () => closeDetail({ refocus: true }));
$('detail-end').addEventListener('click', () => state.detail && endConversation(state.detail.id));
setInterval(() => {
  const now = Date.now();
  $('now').textContent = utc(new Date(now).toISOString());
  document.querySelectorAll('.countdown').forEach(cell => tick(cell, now));
}, 1000);
$('now').textContent = utc(new Date().toISOString());
if (session.key) signIn(session.key); else $('admin-key').focus();

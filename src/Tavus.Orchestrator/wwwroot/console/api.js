// The admin API as the page calls it: the operator key in X-Admin-Key, kept for this tab only.
const keyName = 'tavus-orchestrator.admin-key';

export const session = {
  get key() { return sessionStorage.getItem(keyName); },
  set key(value) { value ? sessionStorage.setItem(keyName, value) : sessionStorage.removeItem(keyName); },
};

/** The key was refused (401) or the admin API is off (403): the page goes back to sign-in. */
export class Refused extends Error {}

async function problemOf(response) {
  const problem = await response.json().catch(() => null);
  return problem?.detail ?? problem?.title ?? `HTTP ${response.status}`;
}

export async function api(path, { method = 'GET', body } = {}) {
  const headers = { 'X-Admin-Key': session.key ?? '', Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 401 || response.status === 403) throw new Refused(await problemOf(response));
  if (!response.ok) throw new Error(await problemOf(response));
  return response.status === 204 ? null : response.json();
}

const pause = ms => new Promise(resolve => setTimeout(resolve, ms));

/**
 * Follows a conversation's live timeline. EventSource cannot send X-Admin-Key, so the stream is
 * read with fetch: frames are split on blank lines; a dropped connection resumes with Last-Event-ID.
 * Resolves when the server closes the stream (the conversation is over) or the signal aborts.
 */
export async function followEvents(path, onEvent, signal) {
  let lastId = null;
  while (!signal.aborted) {
    try {
      const headers = { 'X-Admin-Key': session.key ?? '', Accept: 'text/event-stream' };
      if (lastId) headers['Last-Event-ID'] = lastId;
      const response = await fetch(path, { headers, signal });
      if (response.status === 401 || response.status === 403) throw new Refused(await problemOf(response));
      if (!response.ok) throw new Error(await problemOf(response));
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value.replaceAll('\r\n', '\n');
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = {};
          for (const line of frame.split('\n')) {
            if (line.startsWith(':')) continue;
            const colon = line.indexOf(':');
            const name = colon < 0 ? line : line.slice(0, colon);
            fields[name] = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          }
          if (fields.id) lastId = fields.id;
          if (fields.data) onEvent(fields.event ?? 'message', JSON.parse(fields.data));
        }
      }
    } catch (error) {
      if (signal.aborted || error instanceof Refused) throw error;
      await pause(2000);
    }
  }
}

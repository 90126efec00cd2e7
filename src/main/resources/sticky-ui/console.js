// Sticky's console: polls this node's management API every POLL_MS and draws the cluster. No framework, no
// build: plain DOM calls (textContent only, so no value from the server is ever parsed as HTML).
'use strict';

const POLL_MS = 2000;
const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const state = { previous: new Map(), colors: new Map(), types: [] };

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v; else if (k.startsWith('data-') || k === 'title') e.setAttribute(k, v); else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function short(id) { return id ? id.slice(0, 8) : '–'; }

function banner(text) {
  const b = document.getElementById('banner');
  b.hidden = !text;
  b.textContent = text || '';
}

async function api(path, options = {}) {
  const headers = Object.assign({ Accept: 'application/json' }, options.headers || {});
  const token = sessionStorage.getItem('sticky-token');
  if (token) headers.Authorization = 'Bearer ' + token;
  const response = await fetch(path, Object.assign({}, options, { headers }));
  const body = await response.json().catch(() => ({}));
  if (response.status === 401 || response.status === 403) {
    document.getElementById('token-form').hidden = false;
  }
  if (!response.ok) {
    const error = new Error((body.title || response.statusText) + ': ' + (body.detail || response.status));
    error.status = response.status;
    throw error;
  }
  return body;
}

function colorOf(node) {
  if (!state.colors.has(node)) state.colors.set(node, PALETTE[state.colors.size % PALETTE.length]);
  return state.colors.get(node);
}

// ----------------------------------------------------------------- traffic from cumulative counts

/** The change between two readings of a Traffic ({ok, failed, boundsMs, okAtOrUnder}), per second. */
function delta(now, before, seconds) {
  if (!before || seconds <= 0) return null;
  const counts = now.okAtOrUnder.map((c, i) => c - (before.okAtOrUnder[i] || 0));
  return { ok: (now.ok - before.ok) / seconds, failed: (now.failed - before.failed) / seconds, bounds: now.boundsMs, counts };
}

/** The change of the reading stored under key since the last poll (null on the first), remembering this one. */
function since(key, traffic, now) {
  const before = state.previous.get(key);
  state.previous.set(key, { traffic, at: now });
  return before ? delta(traffic, before.traffic, (now - before.at) / 1000) : null;
}

/** Sums deltas over nodes or types (same histogram bounds everywhere). */
function merge(deltas) {
  const present = deltas.filter(Boolean);
  if (present.length === 0) return null;
  const out = { ok: 0, failed: 0, bounds: present[0].bounds, counts: present[0].bounds.map(() => 0) };
  for (const d of present) {
    out.ok += d.ok; out.failed += d.failed;
    d.counts.forEach((c, i) => { out.counts[i] += c; });
  }
  return out;
}

/** A quantile from cumulative bucket counts, interpolated inside the bucket (as Prometheus does). */
function quantile(d, q) {
  if (!d || d.counts.length === 0) return null;
  const total = d.counts[d.counts.length - 1];
  if (total <= 0) return null;
  const rank = q * total;
  for (let i = 0; i < d.counts.length; i++) {
    if (d.counts[i] >= rank) {
      const lower = i === 0 ? 0 : d.bounds[i - 1];
      const below = i === 0 ? 0 : d.counts[i - 1];
      const inBucket = d.counts[i] - below;
      return inBucket <= 0 ? d.bounds[i] : lower + (d.bounds[i] - lower) * (rank - below) / inBucket;
    }
  }
  return d.bounds[d.bounds.length - 1];
}

function ms(v) { return v == null ? '–' : v < 10 ? v.toFixed(2) + ' ms' : Math.round(v) + ' ms'; }
function rate(v) { return v == null ? '–' : v < 10 ? v.toFixed(1) : Math.round(v).toString(); }

// ----------------------------------------------------------------- drawing

function drawNodes(cluster, deltasByNode, storeByNode) {
  const body = document.querySelector('#nodes tbody');
  body.replaceChildren();
  for (const n of cluster.nodes) {
    const types = Object.values(n.types || {});
    const active = types.reduce((a, t) => a + t.activeEntities, 0);
    const limit = types.reduce((a, t) => a + (t.maxActiveEntities || 0), 0);
    const buffered = types.reduce((a, t) => a + t.bufferedMessages, 0);
    const d = merge(deltasByNode.get(n.id) || []);
    const store = merge(storeByNode.get(n.id) || []);
    const status = el('td');
    if (n.coordinator) status.append(el('span', { class: 'badge coordinator' }, 'coordinator'));
    if (!n.reachable) status.append(el('span', { class: 'badge unreachable' }, 'unreachable'));
    else if (n.drained) status.append(el('span', { class: 'badge drained' }, 'drained'));
    else status.append(el('span', { class: 'badge ready' }, 'up'));
    const action = n.drained
      ? el('button', { 'data-undrain': n.id, onclick: () => drain(n.id, false) }, 'Undrain')
      : el('button', { 'data-drain': n.id, onclick: () => drain(n.id, true) }, 'Drain');
    body.append(el('tr', { 'data-node': n.id, 'data-shards': n.shards },
      el('td', { title: n.id }, el('span', { class: 'swatch' }), short(n.id) + (n.self ? ' (this node)' : '')),
      el('td', {}, n.address || '–'), status,
      el('td', { class: 'num' }, n.reachable ? n.shards : '–'),
      el('td', { class: 'num' }, n.reachable ? active + ' / ' + limit : '–'),
      el('td', { class: 'num' }, n.reachable ? buffered : '–'),
      el('td', { class: 'num' }, rate(d && d.ok + d.failed)), el('td', { class: 'num' }, rate(d && d.failed)),
      el('td', { class: 'num' }, ms(quantile(d, 0.5))), el('td', { class: 'num' }, ms(quantile(d, 0.99))),
      el('td', { class: 'num', 'data-store-p99': '' }, ms(quantile(store, 0.99))), el('td', {}, action)));
    body.lastChild.querySelector('.swatch').style.background = colorOf(n.id);
  }
}

function drawShards(cluster, shards, moves) {
  const legend = document.getElementById('legend');
  legend.replaceChildren(...[...state.colors.entries()].map(([node, color]) => {
    const s = el('span', {}, el('span', { class: 'swatch' }), short(node));
    s.firstChild.style.background = color;
    return s;
  }));
  const moving = new Set((moves.running || []).map(m => m.type + '/' + m.shard));
  const byKey = new Map(shards.map(s => [s.type + '/' + s.shard, s]));
  const maps = document.getElementById('shard-maps');
  maps.replaceChildren();
  for (const [type, numberOfShards] of Object.entries(cluster.numberOfShards || {})) {
    const grid = el('div', { class: 'shard-map', 'data-type': type });
    const allocated = shards.filter(s => s.type === type).length;
    for (let shard = 0; shard < numberOfShards; shard++) {
      const s = byKey.get(type + '/' + shard);
      const cell = el('div', {
        class: 'shard' + (moving.has(type + '/' + shard) ? ' moving' : ''),
        title: s ? `${type}/${shard} on ${short(s.node)}, epoch ${s.epoch}, ${s.entities ?? '?'} active` : `${type}/${shard}: no home yet`,
      });
      if (s) { cell.style.background = colorOf(s.node); cell.dataset.node = s.node; }
      grid.append(cell);
    }
    maps.append(el('h3', {}, `${type} (${allocated} of ${numberOfShards} shards allocated)`), grid);
  }
}

function drawTypes(cluster, deltasByType, shards) {
  const body = document.querySelector('#types tbody');
  body.replaceChildren();
  for (const type of cluster.types) {
    const d = merge(deltasByType.get(type) || []);
    const active = cluster.nodes.reduce((a, n) => a + ((n.types || {})[type]?.activeEntities || 0), 0);
    body.append(el('tr', { 'data-type': type }, el('td', {}, type),
      el('td', { class: 'num' }, shards.filter(s => s.type === type).length), el('td', { class: 'num' }, active),
      el('td', { class: 'num' }, rate(d && d.ok + d.failed)), el('td', { class: 'num' }, rate(d && d.failed)),
      el('td', { class: 'num' }, ms(quantile(d, 0.5))), el('td', { class: 'num' }, ms(quantile(d, 0.99)))));
  }
}

function drawMoves(moves) {
  const body = document.querySelector('#handoffs tbody');
  const rows = [...(moves.running || []), ...(moves.recent || []).slice(0, 15)];
  body.replaceChildren(...rows.map(m => el('tr', { 'data-outcome': m.outcome },
    el('td', {}, m.type + '/' + m.shard), el('td', { title: m.from }, short(m.from)), el('td', { title: m.to }, short(m.to)),
    el('td', {}, m.reason), el('td', {}, new Date(m.startedAt).toLocaleTimeString()),
    el('td', { class: 'num' }, m.outcome === 'running' ? '…' : m.durationMs + ' ms'), el('td', { class: 'num' }, m.entities),
    el('td', {}, m.outcome))));
  if (rows.length === 0) body.append(el('tr', {}, el('td', { colSpan: 8 }, 'none since the coordinator started')));
}

// ----------------------------------------------------------------- actions

async function drain(node, on) {
  try {
    await api(`/cluster/nodes/${encodeURIComponent(node)}/drain`, { method: on ? 'POST' : 'DELETE' });
    banner('');
    poll();
  } catch (e) {
    banner(`${on ? 'Drain' : 'Undrain'} of ${short(node)} refused: ${e.message}`);
  }
}

async function lookup(event) {
  event.preventDefault();
  const type = document.getElementById('lookup-type').value;
  const id = document.getElementById('lookup-id').value.trim();
  const out = document.getElementById('lookup-result');
  if (!id) return;
  try {
    const where = await api(`/cluster/entities/${encodeURIComponent(type)}/${encodeURIComponent(id)}`);
    let text = `${type}/${id}: shard ${where.shard}, ` + (where.allocated ? `on node ${where.node} (epoch ${where.epoch})` : 'no home yet');
    try {
      text += '\n\nview: ' + JSON.stringify(await api(`/entities/${encodeURIComponent(type)}/${encodeURIComponent(id)}`), null, 2);
    } catch (e) {
      text += '\n\nview: ' + e.message;
    }
    out.textContent = text;
    out.dataset.node = where.node || '';
  } catch (e) {
    out.textContent = e.message;
  }
}

// ----------------------------------------------------------------- polling

async function poll() {
  const [cluster, shards, moves] = await Promise.allSettled(['/cluster', '/cluster/shards', '/cluster/handoffs'].map(p => api(p)));
  if (cluster.status !== 'fulfilled') {
    banner('This node did not answer /cluster (' + cluster.reason.message + '); retrying every ' + POLL_MS / 1000 + ' s');
    document.getElementById('summary').textContent = 'no answer';
    return;
  }
  const c = cluster.value;
  const now = Date.now();
  const deltasByNode = new Map();
  const deltasByType = new Map();
  const storeByNode = new Map();
  for (const n of c.nodes) {
    const stores = new Set();
    for (const [type, t] of Object.entries(n.types || {})) {
      if (t.storeWrites && t.store !== 'none' && !stores.has(t.store)) {
        stores.add(t.store);
        (storeByNode.get(n.id) || storeByNode.set(n.id, []).get(n.id)).push(since(n.id + '/store/' + t.store, t.storeWrites, now));
      }
      if (!t.traffic) continue;
      const d = since(n.id + '/' + type, t.traffic, now);
      (deltasByNode.get(n.id) || deltasByNode.set(n.id, []).get(n.id)).push(d);
      (deltasByType.get(type) || deltasByType.set(type, []).get(type)).push(d);
    }
  }
  c.nodes.forEach(n => colorOf(n.id));
  const unreachable = c.nodes.filter(n => !n.reachable).map(n => short(n.id));
  const problems = [shards, moves].filter(r => r.status !== 'fulfilled').map(r => r.reason.message);
  banner(unreachable.length ? `Unreachable: ${unreachable.join(', ')} (their figures are missing)` : problems[0] || '');
  document.getElementById('summary').textContent =
    `${c.nodes.length} nodes · coordinator ${short(c.coordinator)} · version ${c.version} · as of ${new Date(c.asOf).toLocaleTimeString()}`;
  if (state.types.join() !== c.types.join()) {
    state.types = c.types;
    document.getElementById('lookup-type').replaceChildren(...c.types.map(t => el('option', { value: t }, t)));
  }
  const shardList = shards.status === 'fulfilled' ? shards.value.shards : [];
  drawNodes(c, deltasByNode, storeByNode);
  drawTypes(c, deltasByType, shardList);
  drawShards(c, shardList, moves.status === 'fulfilled' ? moves.value : {});
  if (moves.status === 'fulfilled') drawMoves(moves.value);
}

document.getElementById('lookup').addEventListener('submit', lookup);
document.getElementById('token-form').addEventListener('submit', event => {
  event.preventDefault();
  sessionStorage.setItem('sticky-token', document.getElementById('token').value.trim());
  document.getElementById('token-form').hidden = true;
  poll();
});
poll();
setInterval(poll, POLL_MS);

// credx dashboard: polls this node's /v1/health/tree and renders it. Plain browser
// JavaScript, no dependencies and no build step (docs/decisions/0016-dashboard.md).
// Everything from the network is written with textContent, never as HTML.
'use strict';

(function () {
  const ENDPOINT = '/v1/health/tree';
  const POLL_MS = 2000;
  const TIMEOUT_MS = 5000;
  const DAY_MS = 24 * 3600 * 1000;
  const EXPIRY_WARN_DAYS = 30;

  // Severity order of the contract (docs/dashboard.md): the fleet is sorted worst first.
  const SEVERITY = { OK: 0, WARN: 1, REWIND: 2, STALL: 3, STOP: 4, ERR: 5 };
  const MEANING = {
    OK: 'caught up or catching up',
    WARN: 'lag growing while the parent still acknowledges',
    STALL: 'lag and no acknowledgement although sessions run',
    STOP: 'no successful upload for too long, or the node is silent',
    REWIND: 'the acknowledged size went backwards (parent restored an older store?)',
    ERR: 'the last sessions ended with errors',
  };

  const state = { data: null, receivedAt: null, error: null, updates: 0, failures: 0 };

  function severity(status) {
    return Object.prototype.hasOwnProperty.call(SEVERITY, status) ? SEVERITY[status] : 6;
  }

  // el('td', {class: 'num', 'data-x': 'y'}, 'text' | Node | [children])
  function el(tag, attrs, content) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined) node.setAttribute(name, String(value));
    }
    append(node, content);
    return node;
  }

  function append(node, content) {
    if (content === null || content === undefined) return;
    if (Array.isArray(content)) {
      content.forEach((c) => append(node, c));
    } else if (content instanceof Node) {
      node.appendChild(content);
    } else {
      node.appendChild(document.createTextNode(String(content)));
    }
  }

  function replaceRows(tbody, rows) {
    tbody.replaceChildren(...rows);
  }

  function isNumber(n) {
    return typeof n === 'number' && Number.isFinite(n);
  }

  function formatAge(ms) {
    if (!isNumber(ms)) return '—';
    if (ms < 1000) return Math.round(ms) + ' ms';
    const s = ms / 1000;
    if (s < 60) return s.toFixed(1) + ' s';
    const m = Math.floor(s / 60);
    if (m < 60) return m + ' min ' + Math.floor(s % 60) + ' s';
    const h = Math.floor(m / 60);
    if (h < 48) return h + ' h ' + (m % 60) + ' min';
    return Math.floor(h / 24) + ' d ' + (h % 24) + ' h';
  }

  function formatCount(n) {
    return isNumber(n) ? n.toLocaleString('en-US') : '—';
  }

  function statusBadge(status) {
    const known = severity(status) < 6;
    return el('span', {
      class: 'badge status-' + (known ? status : 'UNKNOWN'),
      title: known ? status + ': ' + MEANING[status] : 'status not known to this dashboard',
    }, known ? status : String(status));
  }

  // Expiry of a certificate or roster, relative to the answering node's clock.
  function expiry(atMs, nowMs) {
    if (!isNumber(atMs)) return { level: 'unknown', text: 'unknown', left: Infinity };
    const left = atMs - nowMs;
    const date = new Date(atMs).toISOString().slice(0, 10);
    const span = formatSpan(Math.abs(left));
    if (left <= 0) return { level: 'expired', text: 'EXPIRED ' + span + ' ago (' + date + ')', left };
    if (left < EXPIRY_WARN_DAYS * DAY_MS) {
      return { level: 'warn', text: 'expires in ' + span + ' (' + date + ')', left };
    }
    return { level: 'ok', text: 'in ' + span + ' (' + date + ')', left };
  }

  // Whole days from two days on; hours (at least 1) below, so "0 d" never hides a deadline.
  function formatSpan(ms) {
    if (ms >= 2 * DAY_MS) return Math.floor(ms / DAY_MS) + ' d';
    return Math.max(1, Math.floor(ms / 3600000)) + ' h';
  }

  function expiryCell(tag, e, kind) {
    return el(tag, { class: 'expiry-' + e.level, 'data-expiry': e.level, 'data-kind': kind },
      (e.level === 'warn' || e.level === 'expired' ? '⚠ ' : '') + e.text);
  }

  // The fleet table's short form: which expires first, and in how many days.
  function soonestExpiryCell(kind, e) {
    if (e.level === 'unknown') return el('td', { 'data-expiry': 'unknown', class: 'expiry-unknown' }, 'unknown');
    const text = e.level === 'expired' ? kind + ' EXPIRED' : kind + ' in ' + formatSpan(e.left);
    return expiryCell('td', { level: e.level, text }, kind);
  }

  function byWorstThenOrigin(a, b) {
    return severity(b.status) - severity(a.status) || String(a.origin).localeCompare(String(b.origin));
  }

  function neverHeard(node) {
    return node.report_age_ms === null || node.report_age_ms === undefined;
  }

  // ---------------------------------------------------------------- topology

  function edgeLabel(node) {
    const up = node.upstream;
    if (!up) {
      return el('div', { class: 'edge edge-unknown', 'data-edge-of': node.origin, 'data-status': 'UNKNOWN' },
        neverHeard(node) ? 'edge: no report' : 'edge: not reported');
    }
    return el('div', {
      class: 'edge status-edge-' + up.status,
      'data-edge-of': node.origin,
      'data-status': up.status,
      title: 'edge ' + node.origin + ' → ' + up.parent + ': ' + up.status,
    }, [
      el('span', { class: 'edge-status' }, up.status),
      ' lag ' + formatCount(up.lag_entries) + (up.lag_entries === 1 ? ' entry' : ' entries') + ' · ' + formatAge(up.lag_ms),
      el('br'),
      'last ok ' + (isNumber(up.last_success_age_ms) ? formatAge(up.last_success_age_ms) + ' ago' : 'never'),
    ]);
  }

  function treeNode(node) {
    const never = neverHeard(node);
    return el('a', {
      class: 'node status-' + (severity(node.status) < 6 ? node.status : 'UNKNOWN'),
      href: '#row-' + node.origin,
      'data-origin': node.origin,
      'data-status': node.status,
      'data-level': node.level,
      'data-never-heard': never ? 'true' : 'false',
      title: node.origin + ' (' + node.level + '): ' + node.status + ' — ' + (MEANING[node.status] || ''),
    }, [
      el('span', { class: 'node-status' }, String(node.status)),
      el('span', { class: 'node-origin' }, node.origin),
      el('span', { class: 'node-level' }, node.level),
      el('span', { class: never ? 'node-report never' : 'node-report' },
        never ? 'never heard from' : 'report ' + formatAge(node.report_age_ms) + ' ago'),
    ]);
  }

  function renderTopology(nodes) {
    const byOrigin = new Map(nodes.map((n) => [n.origin, n]));
    const children = new Map();
    const roots = [];
    for (const n of nodes) {
      if (n.parent && n.parent !== n.origin && byOrigin.has(n.parent)) {
        if (!children.has(n.parent)) children.set(n.parent, []);
        children.get(n.parent).push(n);
      } else {
        roots.push(n);
      }
    }
    const seen = new Set();
    function item(node, isRoot) {
      seen.add(node.origin);
      const li = el('li', { 'data-origin': node.origin });
      if (!isRoot || node.parent) li.appendChild(edgeLabel(node));
      li.appendChild(treeNode(node));
      const kids = (children.get(node.origin) || [])
        .filter((k) => !seen.has(k.origin))
        .sort((a, b) => String(a.origin).localeCompare(String(b.origin)));
      if (kids.length) li.appendChild(el('ul', {}, kids.map((k) => item(k, false))));
      return li;
    }
    const top = roots.sort((a, b) => String(a.origin).localeCompare(String(b.origin)))
      .map((r) => item(r, true));
    // A roster with a parent cycle has no root for some nodes: show them anyway.
    for (const n of nodes) if (!seen.has(n.origin)) top.push(item(n, true));
    document.getElementById('topology').replaceChildren(el('ul', { class: 'tree-root' }, top));
  }

  // ---------------------------------------------------------------- fleet

  function renderFleet(nodes, nowMs) {
    const rows = nodes.slice().sort(byWorstThenOrigin).map((n) => {
      const up = n.upstream;
      const never = neverHeard(n);
      const cert = expiry(n.cert_expires_at_ms, nowMs);
      const roster = expiry(n.roster_expires_at_ms, nowMs);
      const soonest = cert.left <= roster.left ? ['cert', cert] : ['roster', roster];
      return el('tr', {
        id: 'row-' + n.origin,
        'data-origin': n.origin,
        'data-status': n.status,
        'data-never-heard': never ? 'true' : 'false',
      }, [
        el('th', { scope: 'row' }, n.origin),
        el('td', {}, n.level),
        el('td', {}, n.parent || '— (root)'),
        el('td', {}, statusBadge(n.status)),
        el('td', { class: 'num' }, up ? formatCount(up.lag_entries) : '—'),
        el('td', { class: 'num' }, up ? formatAge(up.lag_ms) : '—'),
        el('td', {}, up ? (isNumber(up.last_success_age_ms) ? formatAge(up.last_success_age_ms) + ' ago' : 'never') : '—'),
        el('td', { class: never ? 'never' : '' }, never ? 'never heard from' : formatAge(n.report_age_ms) + ' ago'),
        el('td', { class: 'num' }, formatCount(n.log_size)),
        el('td', {}, formatAge(n.checkpoint_age_ms)),
        el('td', { class: n.proof_failures > 0 ? 'num bad' : 'num' }, formatCount(n.proof_failures)),
        el('td', { class: n.forks > 0 ? 'num bad' : 'num' }, formatCount(n.forks)),
        soonestExpiryCell(soonest[0], soonest[1]),
        el('td', {}, n.software || '—'),
      ]);
    });
    replaceRows(document.querySelector('#fleet tbody'), rows);
  }

  function renderSummary(nodes) {
    const counts = {};
    for (const n of nodes) counts[n.status] = (counts[n.status] || 0) + 1;
    const statuses = Object.keys(counts).sort((a, b) => severity(b) - severity(a));
    const never = nodes.filter(neverHeard).length;
    const items = [el('li', { 'data-count': nodes.length, id: 'summary-total' }, nodes.length + ' nodes')];
    for (const s of statuses) {
      items.push(el('li', { 'data-status': s, 'data-count': counts[s] }, [statusBadge(s), ' ' + counts[s]]));
    }
    if (never > 0) items.push(el('li', { 'data-never-heard': never, class: 'never' }, never + ' never heard from'));
    document.getElementById('summary').replaceChildren(...items);
  }

  // ---------------------------------------------------------------- integrity

  function renderIntegrity(integrity, nowMs) {
    const failures = Object.entries(integrity.proof_failures_by_kind || {})
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const failureRows = failures.map(([kind, count]) => el('tr', { 'data-kind': kind, 'data-count': count,
      class: count > 0 ? 'bad' : '' }, [el('th', { scope: 'row' }, kind), el('td', { class: 'num' }, formatCount(count))]));
    const total = failures.reduce((sum, [, c]) => sum + (isNumber(c) ? c : 0), 0);
    failureRows.push(el('tr', { class: total > 0 ? 'total bad' : 'total', 'data-kind': 'total', 'data-count': total },
      [el('th', { scope: 'row' }, total > 0 ? 'Total' : 'Total (none counted)'), el('td', { class: 'num' }, formatCount(total))]));
    replaceRows(document.querySelector('#proof-failures tbody'), failureRows);

    const forks = integrity.forks || [];
    replaceRows(document.querySelector('#forks tbody'), forks.length
      ? forks.map((f) => el('tr', { 'data-origin': f.origin, class: 'bad' }, [
        el('th', { scope: 'row' }, f.origin),
        el('td', {}, isNumber(f.detected_at_ms) ? formatAge(nowMs - f.detected_at_ms) + ' ago (' +
          new Date(f.detected_at_ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC)' : '—'),
      ]))
      : [el('tr', { class: 'empty' }, el('td', { colspan: 2 }, 'No forks held.'))]);

    const origins = (integrity.origins || []).slice()
      .sort((a, b) => String(a.origin).localeCompare(String(b.origin)));
    replaceRows(document.querySelector('#checkpoints tbody'), origins.length
      ? origins.map((o) => el('tr', { 'data-origin': o.origin }, [
        el('th', { scope: 'row' }, o.origin),
        el('td', { class: 'num' }, formatCount(o.size)),
        el('td', {}, isNumber(o.checkpoint_age_ms) ? formatAge(o.checkpoint_age_ms) : 'none yet'),
      ]))
      : [el('tr', { class: 'empty' }, el('td', { colspan: 3 }, 'No checkpoints held yet.'))]);
  }

  // ---------------------------------------------------------------- expiry

  function renderExpiry(nodes, nowMs) {
    const rows = nodes.map((n) => ({
      origin: n.origin,
      cert: expiry(n.cert_expires_at_ms, nowMs),
      roster: expiry(n.roster_expires_at_ms, nowMs),
    })).sort((a, b) => Math.min(a.cert.left, a.roster.left) - Math.min(b.cert.left, b.roster.left) ||
      a.origin.localeCompare(b.origin));
    const flagged = rows.filter((r) => ['warn', 'expired'].includes(r.cert.level) ||
      ['warn', 'expired'].includes(r.roster.level));
    const summary = document.getElementById('expiry-summary');
    summary.setAttribute('data-flagged', flagged.length);
    summary.className = flagged.length ? 'expiry-warn' : 'expiry-ok';
    summary.textContent = flagged.length
      ? '⚠ ' + flagged.length + ' node(s) with a certificate or roster expiring within ' + EXPIRY_WARN_DAYS + ' days or expired.'
      : 'No certificate or roster expires within ' + EXPIRY_WARN_DAYS + ' days.';
    replaceRows(document.querySelector('#expiry-table tbody'), rows.map((r) => el('tr', { 'data-origin': r.origin }, [
      el('th', { scope: 'row' }, r.origin),
      expiryCell('td', r.cert, 'certificate'),
      expiryCell('td', r.roster, 'roster'),
    ])));
  }

  // ---------------------------------------------------------------- page state

  function renderFreshness() {
    const body = document.body;
    const banner = document.getElementById('banner');
    const freshness = document.getElementById('freshness');
    const age = state.receivedAt === null ? null : Date.now() - state.receivedAt;
    body.setAttribute('data-state', state.error ? 'error' : (state.data ? 'ok' : 'loading'));
    body.setAttribute('data-updates', state.updates);
    body.setAttribute('data-failures', state.failures);
    freshness.textContent = age === null
      ? 'no data received yet'
      : 'received ' + formatAge(age) + ' ago' + (state.error ? ' (stale)' : '');
    if (state.error) {
      banner.hidden = false;
      banner.className = 'banner error';
      banner.textContent = 'Cannot read ' + ENDPOINT + ' from this node (' + state.error + '): ' +
        'the node may be down or unreachable. ' +
        (age === null ? 'No data received yet.' : 'Showing the last data, received ' + formatAge(age) + ' ago.') +
        ' Retrying every ' + POLL_MS / 1000 + ' s.';
    } else {
      banner.hidden = true;
      banner.textContent = '';
    }
  }

  function render() {
    renderFreshness();
    const data = state.data;
    if (!data) return;
    const now = data.generated_at_ms;
    document.getElementById('node-origin').textContent = data.node;
    document.getElementById('generated').textContent = new Date(now).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
    renderSummary(data.nodes);
    renderTopology(data.nodes);
    renderFleet(data.nodes, now);
    renderIntegrity(data.integrity || {}, now);
    renderExpiry(data.nodes, now);
  }

  // The parts of the contract the page relies on; anything else is shown as it comes.
  function check(data) {
    if (!data || typeof data !== 'object') throw new Error('the answer is not a JSON object');
    if (!Array.isArray(data.nodes)) throw new Error('the answer has no "nodes" list');
    if (!isNumber(data.generated_at_ms)) throw new Error('the answer has no "generated_at_ms"');
    for (const n of data.nodes) {
      if (!n || typeof n.origin !== 'string' || typeof n.status !== 'string') {
        throw new Error('a node without "origin" or "status"');
      }
    }
    return data;
  }

  async function poll() {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    try {
      const response = await fetch(ENDPOINT, {
        cache: 'no-store',
        headers: { Accept: 'application/json' },
        signal: controller.signal,
      });
      if (!response.ok) throw new Error('HTTP ' + response.status + (response.statusText ? ' ' + response.statusText : ''));
      state.data = check(await response.json());
      state.receivedAt = Date.now();
      state.error = null;
      state.updates += 1;
    } catch (e) {
      state.failures += 1;
      state.error = e && e.name === 'AbortError' ? 'no answer within ' + TIMEOUT_MS / 1000 + ' s'
        : (e && e.message) || String(e);
    } finally {
      clearTimeout(timer);
    }
    try {
      render();
    } catch (e) {
      state.error = 'cannot render the answer: ' + ((e && e.message) || e);
      renderFreshness();
    }
    setTimeout(poll, POLL_MS);
  }

  setInterval(renderFreshness, 1000);
  poll();
})();

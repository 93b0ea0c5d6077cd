#!/usr/bin/env node
// A stand-in for `argus serve` that speaks the web app's API contract from memory, for
// looking at the UI and trying the browser tests before (or without) the real back end.
// It is NOT the product: classification is faked from ImageNet-style file names
// (n02088364_beagle.JPEG → "beagle"). Usage:
//   node e2e/mock-server.mjs [--port 8099] [--dist dist] [--admin-email root@example.com]
// Serves dist/ with the SPA fallback like argus does (index.html for unknown GET paths).
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, resolve } from 'node:path';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => {
    if (arg.startsWith('--')) pairs.push([arg.slice(2), all[i + 1]]);
    return pairs;
  }, []),
);
const port = Number(args.port ?? process.env.PORT ?? 8099);
const dist = resolve(args.dist ?? 'dist');
const adminEmail = args['admin-email'] ?? 'root@example.com';
const breedsDir = resolve(args.breeds ?? '../../shared/assets/breeds');
const here = new URL('.', import.meta.url).pathname;
const breedsCandidates = [breedsDir, resolve(here, '../../../shared/assets/breeds')];

const users = new Map(); // email → {id, email, password, is_admin}
const sessions = new Map(); // session → user
const tokens = new Map(); // id → {id, name, created_at_ms, last_used_at_ms, owner}
const images = new Map(); // `${owner}:${id}` → record
const events = []; // {id, owner, data}
const waiters = new Set();
const decisions = [];
let nextUserId = 1;
let nextTokenId = 1;
let nextEventId = 1;
let doneTotal = 0;
let failedTotal = 0;
const latency = { '/api/v1/images': [], '/api/v1/images/{id}': [] };
const BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

// A few WordNet-ish parent categories for the sample's classes, by wnid range.
function parentsOf(wnid) {
  const n = Number(wnid.slice(1));
  if (n >= 2085620 && n <= 2113978) return ['dog', 'mammal', 'animal'];
  if (n >= 2123045 && n <= 2130308) return ['cat', 'mammal', 'animal'];
  if (n >= 1514668 && n <= 1860187) return ['bird', 'animal'];
  if (n >= 1440764 && n <= 1496331) return ['fish', 'animal'];
  if (n >= 2165105 && n <= 2281787) return ['insect', 'animal'];
  if (n >= 1664065 && n <= 1756291) return ['reptile', 'animal'];
  if ([2701002, 2814533, 2930766, 3100240, 3594945, 3670208, 3770679, 3777568, 4037443, 4285008].includes(n)) {
    return ['car', 'vehicle'];
  }
  if (n >= 7695742 && n <= 7768694) return ['food'];
  return [];
}

function classify(filename) {
  const match = /^(n\d{8})_(.+)\.\w+$/i.exec(filename);
  const wnid = match ? match[1] : 'n04404412';
  const name = match ? match[2].replace(/_/g, ' ') : 'television';
  const parents = parentsOf(wnid);
  const labels = [
    { wnid, name, confidence: 0.81, parents },
    { wnid: 'n02099601', name: 'golden retriever', confidence: 0.07, parents: ['dog', 'mammal', 'animal'] },
    { wnid: 'n04409515', name: 'tennis ball', confidence: 0.04, parents: ['device'] },
    { wnid: 'n03887697', name: 'paper towel', confidence: 0.02, parents: [] },
    { wnid: 'n04548280', name: 'wall clock', confidence: 0.01, parents: ['device', 'instrument'] },
  ];
  const spirit = parents[0] === 'dog' ? { wnid, name, confidence: 0.88 } : { wnid: 'n02099601', name: 'golden retriever', confidence: 0.34 };
  return { labels, spirit_dog: spirit };
}

function imageJson(r) {
  const image = {
    id: r.id,
    status: r.status,
    filename: r.filename,
    content_type: r.content_type,
    size_bytes: r.bytes.length,
    width: 500,
    height: 375,
    uploaded_at_ms: r.uploaded_at_ms,
    urls: { self: `/api/v1/images/${r.id}`, file: `/api/v1/images/${r.id}/file` },
    timings: {},
  };
  if (r.status === 'done') Object.assign(image, r.result, { model: 'mobilenetv2-12-int8' });
  if (r.status === 'failed') image.error = r.error;
  if (r.started_at_ms) image.timings.queued_ms = r.started_at_ms - r.uploaded_at_ms;
  if (r.finished_at_ms) {
    image.timings.total_ms = r.finished_at_ms - r.uploaded_at_ms;
    image.timings.inference_ms = 1.6;
  }
  return image;
}

function publish(owner, record) {
  events.push({ id: nextEventId++, owner, data: JSON.stringify(imageJson(record)) });
  if (events.length > 10000) events.shift();
  for (const wake of waiters) wake();
}

function json(res, status, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(text);
}

function error(res, status, code, message, headers) {
  json(res, status, { error: { code, message } }, headers);
}

function cookies(req) {
  return Object.fromEntries(
    (req.headers.cookie ?? '').split(';').map((p) => p.trim().split('=')).filter((p) => p.length === 2),
  );
}

function currentUser(req) {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) {
    for (const token of tokens.values()) {
      if (token.secret === auth.slice(7)) {
        token.last_used_at_ms = Date.now();
        return { user: token.owner, viaCookie: false };
      }
    }
    return null;
  }
  const session = cookies(req).argus_session;
  const user = session && sessions.get(session);
  return user ? { user, viaCookie: true } : null;
}

function startSession(res, user) {
  const session = randomBytes(16).toString('hex');
  const csrf = randomBytes(16).toString('hex');
  sessions.set(session, user);
  res.setHeader('Set-Cookie', [
    `argus_session=${session}; Path=/; HttpOnly; SameSite=Lax`,
    `argus_csrf=${csrf}; Path=/; SameSite=Lax`,
  ]);
  sessions.set(`csrf:${session}`, csrf);
}

async function body(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const publicUser = (u) => ({ id: u.id, email: u.email, is_admin: u.is_admin });
const key = (owner, id) => `${owner.id}:${id}`;

function observe(route, seconds) {
  latency[route]?.push(seconds);
}

function simulate(owner, record) {
  setTimeout(() => {
    record.status = 'processing';
    record.started_at_ms = Date.now();
    publish(owner.id, record);
  }, 400 + Math.random() * 400);
  setTimeout(() => {
    if (record.deleted) return;
    record.finished_at_ms = Date.now();
    if (record.bytes.length < 16) {
      record.status = 'failed';
      record.error = 'the file is empty or truncated';
      failedTotal++;
    } else {
      record.status = 'done';
      record.result = classify(record.filename);
      doneTotal++;
    }
    publish(owner.id, record);
  }, 1300 + Math.random() * 900);
}

function metricsText() {
  let text = '# TYPE argus_http_request_duration_seconds histogram\n';
  for (const [route, values] of Object.entries(latency)) {
    for (const le of BOUNDS) {
      text += `argus_http_request_duration_seconds_bucket{route="${route}",le="${le}"} ${values.filter((v) => v <= le).length}\n`;
    }
    text += `argus_http_request_duration_seconds_bucket{route="${route}",le="+Inf"} ${values.length}\n`;
  }
  text += `# TYPE argus_images_total counter\nargus_images_total{status="done"} ${doneTotal}\nargus_images_total{status="failed"} ${failedTotal}\n`;
  return text;
}

function opsStatus() {
  const all = [...images.values()].filter((r) => !r.deleted);
  const count = (s) => all.filter((r) => r.status === s).length;
  const depth = count('queued') + count('processing');
  const desired = Math.max(1, Math.min(4, Math.ceil(depth / 2)));
  const last = decisions[decisions.length - 1];
  if (!last || last.to !== desired) {
    decisions.push({
      at_ms: Date.now(),
      action: !last || desired > last.to ? 'scale_out' : 'scale_in',
      from: last?.to ?? 0,
      to: desired,
      depth,
      reason: `ceil(depth ${depth} / 2 jobs per worker) clamped to [1, 4]`,
    });
  }
  return {
    queue: { ready: count('queued'), in_flight: count('processing'), dead: 0 },
    images: { queued: count('queued'), processing: count('processing'), done: count('done'), failed: count('failed') },
    scaler: { desired, running: desired, stopping: 0, crashes: 0, worker_pids: Array.from({ length: desired }, (_, i) => 4100 + i), decisions: decisions.slice(-20) },
  };
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.json': 'application/json', '.jpeg': 'image/jpeg', '.jpg': 'image/jpeg', '.png': 'image/png' };

function serveStatic(req, res, path) {
  const file = join(dist, path);
  const inAssets = path.startsWith('/assets/') && file.startsWith(dist) && existsSync(file) && statSync(file).isFile();
  const target = inAssets ? file : join(dist, 'index.html');
  if (!existsSync(target)) return error(res, 404, 'not_found', 'build the web app first (npm run build)');
  const accept = req.headers['accept-encoding'] ?? '';
  const headers = { 'Content-Type': TYPES[extname(target)] ?? 'application/octet-stream', Vary: 'Accept-Encoding' };
  headers['Cache-Control'] = inAssets ? 'public, max-age=31536000, immutable' : 'no-cache';
  let data;
  if (/\bbr\b/.test(accept) && existsSync(`${target}.br`)) {
    data = readFileSync(`${target}.br`);
    headers['Content-Encoding'] = 'br';
  } else if (/\bgzip\b/.test(accept) && existsSync(`${target}.gz`)) {
    data = readFileSync(`${target}.gz`);
    headers['Content-Encoding'] = 'gzip';
  } else data = readFileSync(target);
  res.writeHead(200, headers);
  res.end(data);
}

const server = createServer(async (req, res) => {
  const started = process.hrtime.bigint();
  const url = new URL(req.url, 'http://localhost');
  const path = url.pathname;
  const method = req.method;
  try {
    if (path === '/metrics') {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      return res.end(metricsText());
    }
    if (!path.startsWith('/api/')) {
      if (method !== 'GET' && method !== 'HEAD') return error(res, 405, 'method_not_allowed', 'GET only');
      return serveStatic(req, res, path);
    }
    const who = currentUser(req);
    // CSRF double submit for cookie sessions.
    if (method !== 'GET' && who?.viaCookie) {
      const csrf = cookies(req).argus_csrf;
      if (!csrf || req.headers['x-csrf-token'] !== csrf) return error(res, 403, 'csrf', 'missing or wrong X-CSRF-Token');
    }
    if (path === '/api/v1/auth/signup' && method === 'POST') {
      const { email = '', password = '' } = JSON.parse((await body(req)).toString() || '{}');
      if (!email.includes('@')) return error(res, 400, 'invalid_argument', 'email must contain @');
      if (password.length < 8) return error(res, 400, 'invalid_argument', 'password must be at least 8 characters');
      if (users.has(email.toLowerCase())) return error(res, 409, 'already_exists', 'an account with this email exists');
      const user = { id: nextUserId++, email, password, is_admin: email === adminEmail };
      users.set(email.toLowerCase(), user);
      startSession(res, user);
      return json(res, 201, { user: publicUser(user) });
    }
    if (path === '/api/v1/auth/login' && method === 'POST') {
      const { email = '', password = '' } = JSON.parse((await body(req)).toString() || '{}');
      const user = users.get(email.toLowerCase());
      if (!user || user.password !== password) return error(res, 401, 'invalid_credentials', 'wrong email or password');
      startSession(res, user);
      return json(res, 200, { user: publicUser(user) });
    }
    if (path === '/api/v1/auth/logout' && method === 'POST') {
      sessions.delete(cookies(req).argus_session);
      res.setHeader('Set-Cookie', ['argus_session=; Path=/; Max-Age=0', 'argus_csrf=; Path=/; Max-Age=0']);
      res.writeHead(204);
      return res.end();
    }
    if (!who) return error(res, 401, 'unauthenticated', 'log in first');
    const user = who.user;
    if (path === '/api/v1/auth/me') return json(res, 200, { user: publicUser(user) });
    if (path === '/api/v1/tokens' && method === 'GET') {
      const list = [...tokens.values()].filter((t) => t.owner === user).map(({ id, name, created_at_ms, last_used_at_ms }) => ({ id, name, created_at_ms, last_used_at_ms }));
      return json(res, 200, { tokens: list });
    }
    if (path === '/api/v1/tokens' && method === 'POST') {
      const { name = '' } = JSON.parse((await body(req)).toString() || '{}');
      if (!name.trim()) return error(res, 400, 'invalid_argument', 'name is required');
      const token = { id: String(nextTokenId++), name, created_at_ms: Date.now(), last_used_at_ms: null, owner: user, secret: `argus_${randomBytes(18).toString('hex')}` };
      tokens.set(token.id, token);
      return json(res, 201, { id: token.id, name, token: token.secret });
    }
    let m = /^\/api\/v1\/tokens\/([^/]+)$/.exec(path);
    if (m && method === 'DELETE') {
      const token = tokens.get(m[1]);
      if (!token || token.owner !== user) return error(res, 404, 'not_found', 'no such token');
      tokens.delete(m[1]);
      res.writeHead(204);
      return res.end();
    }
    if (path === '/api/v1/images' && method === 'POST') {
      const raw = await body(req);
      const form = await new Request('http://x/', { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body: raw }).formData();
      const accepted = [];
      for (const [, value] of form.entries()) {
        if (typeof value === 'string') continue;
        const bytes = Buffer.from(await value.arrayBuffer());
        const id = createHash('sha256').update(bytes).digest('hex');
        let record = images.get(key(user, id));
        if (!record || record.deleted) {
          record = { id, status: 'queued', filename: value.name, content_type: value.type || 'image/jpeg', bytes, uploaded_at_ms: Date.now() };
          images.set(key(user, id), record);
          simulate(user, record);
        }
        accepted.push(imageJson(record));
      }
      if (!accepted.length) return error(res, 400, 'invalid_argument', 'no files in the request');
      observe('/api/v1/images', Number(process.hrtime.bigint() - started) / 1e9);
      return json(res, 202, { images: accepted });
    }
    if (path === '/api/v1/images' && method === 'GET') {
      const label = (url.searchParams.get('label') ?? '').toLowerCase();
      const limit = Math.min(200, Number(url.searchParams.get('limit') ?? 50));
      const cursor = Number(url.searchParams.get('cursor') || 0);
      let list = [...images.entries()].filter(([k, r]) => k.startsWith(`${user.id}:`) && !r.deleted).map(([, r]) => r);
      // Search terms as in argus: the top label and labels of at least 10 %, with parents.
      const terms = (r) => r.result.labels.filter((l, i) => i === 0 || l.confidence >= 0.1).flatMap((l) => [l.name.toLowerCase(), ...l.parents]);
      if (label) list = list.filter((r) => r.status === 'done' && terms(r).includes(label));
      list.sort((a, b) => b.uploaded_at_ms - a.uploaded_at_ms);
      const page = list.slice(cursor, cursor + limit);
      return json(res, 200, { images: page.map(imageJson), next_cursor: cursor + limit < list.length ? String(cursor + limit) : '' });
    }
    m = /^\/api\/v1\/breeds\/(n\d{8})\/photo$/.exec(path);
    if (m) {
      for (const dir of breedsCandidates) {
        if (!existsSync(dir)) continue;
        const file = readdirSync(dir).find((f) => f.startsWith(m[1]));
        if (file) {
          res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Cache-Control': 'public, max-age=86400' });
          return res.end(readFileSync(join(dir, file)));
        }
      }
      return error(res, 404, 'not_found', 'no photo of this breed');
    }
    m = /^\/api\/v1\/images\/([0-9a-f]+)(\/file|\/thumbnail)?$/.exec(path);
    if (m) {
      const record = images.get(key(user, m[1]));
      if (!record || record.deleted) return error(res, 404, 'not_found', 'no such image');
      if (method === 'DELETE' && !m[2]) {
        record.deleted = true;
        images.delete(key(user, m[1]));
        res.writeHead(204);
        return res.end();
      }
      if (m[2] === '/thumbnail' && record.status !== 'done') return error(res, 404, 'not_found', 'no thumbnail yet');
      if (m[2]) {
        res.writeHead(200, { 'Content-Type': record.content_type });
        return res.end(record.bytes);
      }
      observe('/api/v1/images/{id}', Number(process.hrtime.bigint() - started) / 1e9);
      return json(res, 200, imageJson(record));
    }
    if (path === '/api/v1/events') {
      const after = Number(req.headers['last-event-id'] ?? 0) || (events.length ? events[events.length - 1].id : 0);
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      res.write(`retry: 100\nevent: ready\ndata: {}\n\n`);
      const flush = () => {
        const mine = events.filter((e) => e.id > after && e.owner === user.id);
        if (!mine.length) return false;
        for (const e of mine) res.write(`id: ${e.id}\nevent: image\ndata: ${e.data}\n\n`);
        // Keep the stream's position even when only other users' events came by.
        return true;
      };
      if (flush()) return res.end();
      const wake = () => {
        if (flush()) finish();
      };
      const finish = () => {
        waiters.delete(wake);
        clearTimeout(timer);
        res.end();
      };
      const timer = setTimeout(finish, 5000);
      waiters.add(wake);
      req.on('close', () => {
        waiters.delete(wake);
        clearTimeout(timer);
      });
      return;
    }
    if (path === '/api/v1/ops/status') {
      if (!user.is_admin) return error(res, 403, 'forbidden', 'the operations status is for administrators');
      return json(res, 200, opsStatus());
    }
    return error(res, 404, 'not_found', 'no such route');
  } catch (e) {
    console.error(e);
    if (!res.headersSent) error(res, 500, 'internal', String(e));
  }
});

server.listen(port, '127.0.0.1', () => {
  console.log(`mock argus on http://127.0.0.1:${port} serving ${dist} (admin: ${adminEmail})`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));

// Lints and checks the signal server's deploy files (apps/signal/deploy) with the real tools
// available here: yamllint, promtool (check rules/config, test rules), systemd-analyze, and
// structural checks of the Dockerfile, Kubernetes manifests, compose files, ECS and fly.toml.
// Docker cannot run here, so these checks are what keeps the files correct by construction.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';

const appDir = join(import.meta.dirname, '..');
const repoRoot = join(appDir, '..', '..');
const deployDir = join(appDir, 'deploy');
const promDir = join(deployDir, 'prometheus');

/** Metric names the server exposes (packages/signal-server) plus what Prometheus adds. */
const SERVER_METRICS = [
  'wormhole_active_rooms',
  'wormhole_active_connections',
  'wormhole_total_connections',
  'wormhole_messages_relayed_total',
  'wormhole_connection_duration_seconds',
  'wormhole_errors_total',
];
const HISTOGRAMS = ['wormhole_connection_duration_seconds'];
const PROCESS_METRICS = ['process_resident_memory_bytes', 'process_cpu_seconds_total'];
/** Series that come from Prometheus itself (`up`) or blackbox_exporter (`probe_success`). */
const EXTERNAL_METRICS = ['up', 'probe_success'];
const ALLOWED_METRICS = new Set([
  ...SERVER_METRICS,
  ...HISTOGRAMS.flatMap((h) => [`${h}_bucket`, `${h}_sum`, `${h}_count`]),
  ...PROCESS_METRICS,
  ...EXTERNAL_METRICS,
]);

function which(bin: string): string | undefined {
  const res = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
  const path = res.stdout.trim();
  return res.status === 0 && path !== '' ? path : undefined;
}

function run(cmd: string, args: string[], cwd = deployDir) {
  const res = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 20_000 });
  return { status: res.status, out: `${res.stdout ?? ''}${res.stderr ?? ''}` };
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else out.push(full);
  }
  return out;
}

const read = (rel: string) => readFileSync(join(deployDir, rel), 'utf8');
const yamlFiles = walk(deployDir).filter((f) => /\.ya?ml$/.test(f));

type Obj = Record<string, unknown>;
const obj = (v: unknown, what: string): Obj => {
  assert.ok(v !== null && typeof v === 'object' && !Array.isArray(v), `${what} must be a mapping`);
  return v as Obj;
};
const arr = (v: unknown, what: string): unknown[] => {
  assert.ok(Array.isArray(v), `${what} must be a list`);
  return v;
};

function yamlDocs(rel: string): Obj[] {
  // merge: compose files use YAML merge keys (`<<: *signal`), which Docker Compose supports.
  const docs = parseAllDocuments(read(rel), { merge: true });
  for (const d of docs) assert.deepEqual(d.errors, [], `${rel}: YAML errors`);
  return docs.map((d) => d.toJS() as unknown).filter((d): d is Obj => d !== null && d !== undefined) as Obj[];
}

function k8sObjects(): Obj[] {
  const files = readdirSync(join(deployDir, 'k8s')).filter((f) => f.endsWith('.yaml'));
  return files.flatMap((f) => yamlDocs(join('k8s', f)).map((d) => ({ ...d, __file: f })));
}

function k8s(kind: string, name: string): Obj {
  const found = k8sObjects().filter((o) => o.kind === kind && obj(o.metadata, 'metadata').name === name);
  assert.equal(found.length, 1, `exactly one ${kind}/${name}`);
  return found[0]!;
}

/** Metric names referenced by a PromQL expression (functions, keywords, labels, strings removed). */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'inf', 'nan']);
  const names: string[] = [];
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*(?=\s*(\(|))/g)) {
    if (m[1] === '(' || keywords.has(m[0].toLowerCase())) continue;
    if (/^[0-9]/.test(m[0])) continue;
    names.push(m[0]);
  }
  return names;
}

test('metricNames extracts metrics, not functions or labels', () => {
  assert.deepEqual(
    metricNames('sum by (code) (rate(wormhole_errors_total{job="x"}[5m])) > 0.1 and up == 0'),
    ['wormhole_errors_total', 'up'],
  );
  assert.deepEqual(metricNames('histogram_quantile(0.99, sum by (le) (rate(a_bucket[$__rate_interval])))'), [
    'a_bucket',
  ]);
});

test('yamllint passes on every YAML file with deploy/.yamllint.yml', (t) => {
  if (!which('yamllint')) return t.skip('yamllint not installed (scripts/install-deps.sh installs it)');
  assert.ok(yamlFiles.length >= 15, `expected the deploy YAML files, found ${yamlFiles.length}`);
  const res = run('yamllint', ['--strict', '-c', '.yamllint.yml', '-f', 'parsable', ...yamlFiles]);
  assert.equal(res.status, 0, res.out);
});

test('every YAML document parses', () => {
  for (const f of yamlFiles) yamlDocs(relative(deployDir, f));
});

test('promtool: alert rules, scrape config and rule unit tests', (t) => {
  if (!which('promtool')) return t.skip('promtool not installed (apt package prometheus)');
  const rules = run('promtool', ['check', 'rules', 'alerts.yml'], promDir);
  assert.equal(rules.status, 0, rules.out);
  assert.match(rules.out, /SUCCESS: 5 rules found/);
  const config = run('promtool', ['check', 'config', 'prometheus.yml'], promDir);
  assert.equal(config.status, 0, config.out);
  const unit = run('promtool', ['test', 'rules', 'alerts.test.yml'], promDir);
  assert.equal(unit.status, 0, unit.out);
  assert.match(unit.out, /SUCCESS/);
});

test('promtool: Kubernetes scrape config', (t) => {
  if (!which('promtool')) return t.skip('promtool not installed (apt package prometheus)');
  const res = run('promtool', ['check', 'config', 'prometheus-k8s.yml'], promDir);
  if (res.status !== 0 && /kubernetes_sd_configs not found/.test(res.out)) {
    return t.skip("this promtool build has no Kubernetes service discovery (Debian's package drops it)");
  }
  assert.equal(res.status, 0, res.out);
});

test('every alert is unit-tested to fire', () => {
  const alerts = arr(obj(parse(read('prometheus/alerts.yml')), 'alerts').groups, 'groups').flatMap((g) =>
    arr(obj(g, 'group').rules, 'rules').map((r) => String(obj(r, 'rule').alert)),
  );
  assert.deepEqual(alerts.sort(), [
    'WormholeSignalDown',
    'WormholeSignalHighErrorRate',
    'WormholeSignalHighMemory',
    'WormholeSignalHighRoomCount',
    'WormholeSignalNotReady',
  ]);
  const tests = arr(obj(parse(read('prometheus/alerts.test.yml')), 'tests').tests, 'tests');
  const firing = new Set<string>();
  for (const tc of tests) {
    for (const a of arr(obj(tc, 'test').alert_rule_test, 'alert_rule_test')) {
      const at = obj(a, 'alert_rule_test');
      if (arr(at.exp_alerts, 'exp_alerts').length > 0) firing.add(String(at.alertname));
    }
  }
  assert.deepEqual([...firing].sort(), alerts.sort());
  const down = arr(obj(parse(read('prometheus/alerts.yml')), 'alerts').groups, 'groups')
    .flatMap((g) => arr(obj(g, 'group').rules, 'rules'))
    .map((r) => obj(r, 'rule'))
    .find((r) => r.alert === 'WormholeSignalDown')!;
  assert.match(String(down.expr), /^up\{.*\} == 0$/);
  assert.equal(down.for, '1m');
});

test('alerts and dashboard only use metrics the server exposes', () => {
  const exprs: Array<[string, string]> = [];
  for (const g of arr(obj(parse(read('prometheus/alerts.yml')), 'alerts').groups, 'groups')) {
    for (const r of arr(obj(g, 'group').rules, 'rules'))
      exprs.push(['alerts.yml', String(obj(r, 'rule').expr)]);
  }
  const dash = obj(JSON.parse(read('grafana/wormhole-signal.json')), 'dashboard');
  for (const p of arr(dash.panels, 'panels')) {
    const panel = obj(p, 'panel');
    for (const tg of arr(panel.targets, 'targets'))
      exprs.push([`panel ${panel.title}`, String(obj(tg, 'target').expr)]);
  }
  const used = new Set<string>();
  for (const [where, e] of exprs) {
    const names = metricNames(e);
    assert.ok(names.length > 0, `${where}: no metric in ${e}`);
    for (const n of names) {
      assert.ok(ALLOWED_METRICS.has(n), `${where}: unknown metric ${n} in ${e}`);
      used.add(n);
    }
  }
  // The dashboard covers rooms, connections, relay rate, errors, duration quantiles, RSS, CPU.
  for (const m of [...SERVER_METRICS.filter((m) => !HISTOGRAMS.includes(m)), ...PROCESS_METRICS]) {
    assert.ok(used.has(m), `${m} is not shown anywhere`);
  }
  const all = exprs.map(([, e]) => e).join('\n');
  assert.match(
    all,
    /histogram_quantile\(0\.99, sum by \(le\) \(rate\(wormhole_connection_duration_seconds_bucket/,
  );
  assert.match(all, /sum by \(code\) \(rate\(wormhole_errors_total/);
});

test('the metric list matches the server source when it exists', (t) => {
  const src = join(repoRoot, 'packages', 'signal-server', 'src', 'metrics.ts');
  if (!existsSync(src)) return t.skip('packages/signal-server/src/metrics.ts not present');
  const text = readFileSync(src, 'utf8');
  const declared = [...text.matchAll(/name:\s*'([a-z_:]+)'/g)].map((m) => m[1]!);
  for (const m of SERVER_METRICS) assert.ok(declared.includes(m), `server does not declare ${m}`);
});

test('Grafana dashboard JSON is importable', () => {
  const dash = obj(JSON.parse(read('grafana/wormhole-signal.json')), 'dashboard');
  assert.equal(dash.uid, 'wormhole-signal');
  const panels = arr(dash.panels, 'panels').map((p) => obj(p, 'panel'));
  const ids = panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  for (const p of panels) {
    const pos = obj(p.gridPos, 'gridPos');
    assert.ok(Number(pos.x) + Number(pos.w) <= 24, `${p.title} fits the 24-column grid`);
  }
  const vars = arr(obj(dash.templating, 'templating').list, 'list').map((v) => obj(v, 'var').name);
  assert.deepEqual(vars, ['datasource', 'job', 'instance']);
});

/** Dockerfile instructions, with line continuations joined and comments dropped. */
function dockerInstructions(text: string): Array<{ op: string; args: string }> {
  const lines = text.split('\n').filter((l) => !/^\s*#/.test(l));
  const joined = lines.join('\n').replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(' ') };
    });
}

test('Dockerfile: multi-stage, prod deps only, non-root final stage with HEALTHCHECK', () => {
  const ins = dockerInstructions(read('Dockerfile'));
  const stages: Array<Array<{ op: string; args: string }>> = [];
  for (const i of ins) {
    if (i.op === 'FROM') stages.push([]);
    stages.at(-1)?.push(i);
  }
  assert.ok(stages.length >= 2, 'multi-stage');
  const build = stages[0]!;
  const final = stages.at(-1)!;
  assert.match(build[0]!.args, /^node:\$\{NODE_VERSION\}-bookworm AS build$/);
  assert.match(final[0]!.args, /^node:\$\{NODE_VERSION\}-bookworm-slim/);
  const buildRuns = build.filter((i) => i.op === 'RUN').map((i) => i.args);
  assert.ok(
    buildRuns.some((r) => r.includes('pnpm@12.4.2')),
    'pins pnpm 12.4.2',
  );
  assert.ok(
    buildRuns.some((r) => /--frozen-lockfile/.test(r) && r.includes("--filter '@wormhole/signal...'")),
  );
  assert.ok(
    buildRuns.some((r) => /deploy .*--prod \/out/.test(r)),
    'pnpm deploy --prod',
  );
  // The final stage takes only the deployed folder from the build stage.
  const copies = final.filter((i) => i.op === 'COPY').map((i) => i.args);
  assert.ok(
    copies.length > 0 && copies.every((c) => /--from=build .*\/out\/ \/app\/$/.test(c)),
    copies.join('; '),
  );
  const users = final.filter((i) => i.op === 'USER').map((i) => i.args);
  assert.equal(users.length, 1, 'one USER in the final stage');
  assert.doesNotMatch(users[0]!, /^(root|0)(:|$)/);
  assert.match(users[0]!, /^[1-9][0-9]*:[1-9][0-9]*$/, 'numeric uid:gid so runAsNonRoot can verify it');
  const health = final.find((i) => i.op === 'HEALTHCHECK');
  assert.ok(health, 'HEALTHCHECK in the final stage');
  assert.match(health.args, /CMD/);
  assert.match(read('Dockerfile'), /WORMHOLE_HEALTH_URL=http:\/\/127\.0\.0\.1:8080\/health/);
  assert.equal(final.find((i) => i.op === 'STOPSIGNAL')?.args, 'SIGTERM');
  assert.equal(final.find((i) => i.op === 'EXPOSE')?.args, '8080/tcp');
  const entry = final.find((i) => i.op === 'ENTRYPOINT');
  assert.ok(entry);
  const bin = obj(JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')).bin, 'bin')[
    'wormhole-signal'
  ];
  assert.equal(bin, './bin/wormhole-signal.js');
  assert.deepEqual(JSON.parse(entry.args), ['node', '/app/bin/wormhole-signal.js']);
  // Every file the build stage copies from the context exists in the repository.
  for (const c of build.filter((i) => i.op === 'COPY' && !i.args.includes('--from'))) {
    const parts = c.args.split(/\s+/).filter((p) => !p.startsWith('--'));
    for (const src of parts.slice(0, -1))
      assert.ok(existsSync(join(repoRoot, src)), `COPY source ${src} exists`);
  }
});

test('Dockerfile.dockerignore allow-lists the signal closure only', () => {
  const lines = read('Dockerfile.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  assert.equal(lines[0], '*', 'starts by ignoring everything');
  for (const l of lines.filter((l) => l.startsWith('!') && !l.includes('*'))) {
    assert.ok(existsSync(join(repoRoot, l.slice(1))), `${l.slice(1)} exists`);
  }
  // The packages tsc -b builds for apps/signal must all be allowed in.
  const refs = arr(JSON.parse(readFileSync(join(appDir, 'tsconfig.json'), 'utf8')).references, 'references');
  for (const r of refs) {
    const pkg = relative(repoRoot, join(appDir, String(obj(r, 'ref').path)));
    assert.ok(lines.includes(`!${pkg}/src`), `${pkg}/src allowed`);
  }
  assert.ok(!lines.some((l) => /packages\/(cache|fuse|engine|cli)\/src/.test(l)), 'no unrelated sources');
});

test('systemd unit: verifies and carries the hardening directives', (t) => {
  const unit = read('systemd/wormhole-signal.service');
  const has = (line: string) =>
    assert.ok(
      unit.split('\n').some((l) => l.trim() === line),
      `missing "${line}"`,
    );
  for (const d of [
    'DynamicUser=yes',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'CapabilityBoundingSet=',
    'AmbientCapabilities=',
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX',
    'SystemCallFilter=@system-service',
    'MemoryMax=512M',
    'Restart=on-failure',
    'TimeoutStopSec=15s',
    'KillSignal=SIGTERM',
  ]) {
    has(d);
  }
  assert.match(unit, /^ExecStart=\/usr\/bin\/node \/opt\/wormhole-signal\/bin\/wormhole-signal\.js --bind /m);
  const env = read('systemd/wormhole-signal.env.example');
  assert.match(env, /^WORMHOLE_SIGNAL_BIND=/m);
  if (!which('systemd-analyze')) return t.skip('systemd-analyze not installed');
  const res = run('systemd-analyze', ['verify', './wormhole-signal.service'], join(deployDir, 'systemd'));
  assert.equal(res.status, 0, res.out);
  assert.doesNotMatch(res.out, /wormhole-signal\.service/, res.out);
});

test('Kubernetes Deployment: probes, resources, securityContext, drain time', () => {
  const dep = k8s('Deployment', 'wormhole-signal');
  const pod = obj(obj(obj(dep.spec, 'spec').template, 'template').spec, 'pod spec');
  assert.ok(Number(pod.terminationGracePeriodSeconds) > 10 + 5, 'grace > drain bound + preStop sleep');
  assert.equal(obj(pod.securityContext, 'pod securityContext').runAsNonRoot, true);
  const [c] = arr(pod.containers, 'containers').map((x) => obj(x, 'container'));
  assert.ok(c);
  const probe = (name: string) => obj(obj(c[name], name).httpGet, `${name}.httpGet`);
  assert.equal(probe('livenessProbe').path, '/health');
  assert.equal(probe('readinessProbe').path, '/ready');
  const port = arr(c.ports, 'ports').map((p) => obj(p, 'port'))[0]!;
  assert.equal(port.containerPort, 8080);
  assert.equal(probe('livenessProbe').port, port.name);
  const res = obj(c.resources, 'resources');
  assert.equal(obj(res.requests, 'requests').memory, '256Mi');
  assert.equal(obj(res.limits, 'limits').memory, '512Mi');
  const sc = obj(c.securityContext, 'securityContext');
  assert.equal(sc.runAsNonRoot, true);
  assert.equal(sc.readOnlyRootFilesystem, true);
  assert.equal(sc.allowPrivilegeEscalation, false);
  assert.deepEqual(obj(sc.capabilities, 'capabilities').drop, ['ALL']);
  const args = arr(c.args, 'args');
  assert.equal(args[args.indexOf('--bind') + 1], '0.0.0.0:8080');
  const secretPath = String(args[args.indexOf('--turn-secret-file') + 1]);
  const mounts = arr(c.volumeMounts, 'volumeMounts').map((m) => obj(m, 'mount'));
  assert.ok(
    mounts.some((m) => secretPath.startsWith(`${m.mountPath}/`)),
    'TURN secret file is mounted',
  );
  assert.equal(obj(arr(c.envFrom, 'envFrom')[0], 'envFrom').configMapRef !== undefined, true);
  const cm = k8s('ConfigMap', 'wormhole-signal');
  assert.equal(obj(cm.data, 'data').SIGNAL_MAX_ROOMS, '10000');
});

test('Kubernetes Service, Ingress, HPA, PDB and kustomization agree', () => {
  const svc = k8s('Service', 'wormhole-signal');
  const dep = k8s('Deployment', 'wormhole-signal');
  const podLabels = obj(
    obj(obj(obj(dep.spec, 'spec').template, 'template').metadata, 'meta').labels,
    'labels',
  );
  for (const [k, v] of Object.entries(obj(obj(svc.spec, 'spec').selector, 'selector')))
    assert.equal(podLabels[k], v);
  const ing = k8s('Ingress', 'wormhole-signal');
  const ann = obj(obj(ing.metadata, 'metadata').annotations, 'annotations');
  assert.ok(Number(ann['nginx.ingress.kubernetes.io/proxy-read-timeout']) >= 3600);
  assert.ok(Number(ann['nginx.ingress.kubernetes.io/proxy-send-timeout']) >= 3600);
  const ingSpec = obj(ing.spec, 'spec');
  assert.ok(arr(ingSpec.tls, 'tls').length > 0, 'Ingress has TLS');
  const hpa = k8s('HorizontalPodAutoscaler', 'wormhole-signal');
  const hpaSpec = obj(hpa.spec, 'spec');
  assert.equal(obj(hpaSpec.scaleTargetRef, 'scaleTargetRef').name, 'wormhole-signal');
  assert.ok(Number(hpaSpec.minReplicas) >= 2);
  const pdb = k8s('PodDisruptionBudget', 'wormhole-signal');
  assert.equal(obj(pdb.spec, 'spec').maxUnavailable, 1);
  const kust = yamlDocs('k8s/kustomization.yaml')[0]!;
  const resources = arr(kust.resources, 'resources').map(String);
  for (const r of resources) assert.ok(existsSync(join(deployDir, 'k8s', r)), `${r} exists`);
  // The HPA only makes sense with Redis, so the single-instance base leaves it out.
  assert.ok(!resources.includes('hpa.yaml'));
});

test('coturn: config hardening, and the K8s ConfigMap mirrors the files', () => {
  const conf = read('coturn/turnserver.conf');
  const lines = conf.split('\n').map((l) => l.trim());
  for (const d of [
    'use-auth-secret',
    'no-cli',
    'fingerprint',
    'listening-port=3478',
    'tls-listening-port=5349',
  ]) {
    assert.ok(lines.includes(d), `turnserver.conf: ${d}`);
  }
  assert.ok(lines.some((l) => /^realm=\S+/.test(l)));
  assert.ok(lines.some((l) => /^min-port=\d+/.test(l)) && lines.some((l) => /^max-port=\d+/.test(l)));
  assert.ok(!lines.some((l) => l.startsWith('static-auth-secret=')), 'the secret is never in the file');
  for (const range of [
    '10.0.0.0-',
    '172.16.0.0-',
    '192.168.0.0-',
    '127.0.0.0-',
    '169.254.0.0-',
    '100.64.0.0-',
  ]) {
    assert.ok(
      lines.some((l) => l.startsWith(`denied-peer-ip=${range}`)),
      `denies ${range}`,
    );
  }
  const cm = k8s('ConfigMap', 'wormhole-coturn');
  const data = obj(cm.data, 'data');
  assert.equal(data['turnserver.conf'], conf);
  assert.equal(data['coturn-entrypoint.sh'], read('coturn/coturn-entrypoint.sh'));
  const sh = run('sh', ['-n', 'coturn/coturn-entrypoint.sh']);
  assert.equal(sh.status, 0, sh.out);
  const ds = k8s('DaemonSet', 'wormhole-coturn');
  const pod = obj(obj(obj(ds.spec, 'spec').template, 'template').spec, 'pod');
  assert.equal(pod.hostNetwork, true);
});

test('compose files: healthchecks, Redis scale-out, load balancer, coturn', () => {
  const single = yamlDocs('docker-compose.yml')[0]!;
  const services = obj(single.services, 'services');
  const signal = obj(services.signal, 'signal');
  assert.match(JSON.stringify(obj(signal.healthcheck, 'healthcheck').test), /\/health/);
  assert.equal(obj(signal.build, 'build').dockerfile, 'apps/signal/deploy/Dockerfile');
  assert.ok(existsSync(join(deployDir, String(obj(signal.build, 'build').context), 'pnpm-lock.yaml')));
  assert.ok(services.coturn, 'coturn service');
  const redis = yamlDocs('docker-compose.redis.yml')[0]!;
  const rs = obj(redis.services, 'services');
  assert.ok(rs.redis && rs['signal-1'] && rs['signal-2'] && rs.lb && rs.coturn);
  for (const s of ['signal-1', 'signal-2']) {
    const env = obj(obj(rs[s], s).environment, 'environment');
    assert.match(String(env.REDIS_URL), /^redis:\/\/redis:6379/);
    assert.ok(obj(rs[s], s).healthcheck);
  }
  const nginx = read('nginx/nginx.conf');
  for (const s of ['signal-1:8080', 'signal-2:8080']) assert.ok(nginx.includes(`server ${s}`));
  assert.match(nginx, /proxy_set_header Upgrade \$http_upgrade;/);
  assert.match(nginx, /proxy_read_timeout 3600s;/);
  const directives = nginx.replace(/#.*$/gm, '');
  assert.doesNotMatch(directives, /ip_hash|sticky|hash \$/, 'no sticky sessions');
  for (const f of ['coturn/turnserver.conf', 'coturn/coturn-entrypoint.sh', 'nginx/nginx.conf']) {
    assert.ok(existsSync(join(deployDir, f)));
  }
});

test('ECS task definition: health check, awslogs, ports, env and secrets', () => {
  const td = obj(JSON.parse(read('ecs-task-definition.json')), 'task definition');
  const [c] = arr(td.containerDefinitions, 'containerDefinitions').map((x) => obj(x, 'container'));
  assert.ok(c);
  assert.match(JSON.stringify(obj(c.healthCheck, 'healthCheck').command), /\/health/);
  assert.equal(obj(c.logConfiguration, 'logConfiguration').logDriver, 'awslogs');
  assert.equal(obj(arr(c.portMappings, 'portMappings')[0], 'portMapping').containerPort, 8080);
  const secrets = arr(c.secrets, 'secrets').map((s) => obj(s, 'secret'));
  assert.deepEqual(secrets.map((s) => s.name).sort(), ['REDIS_URL', 'TURN_SECRET']);
  for (const s of secrets) assert.match(String(s.valueFrom), /^arn:aws:(ssm|secretsmanager):/);
  const env = arr(c.environment, 'environment').map((e) => obj(e, 'env').name);
  assert.ok(env.includes('SIGNAL_MAX_ROOMS'));
  assert.equal(c.user, '10001:10001');
  assert.ok(Number(c.stopTimeout) > 10);
});

test('fly.toml parses and drains on SIGTERM', (t) => {
  if (!which('python3')) return t.skip('python3 (tomllib) not installed');
  const res = spawnSync(
    'python3',
    ['-c', 'import json,sys,tomllib; print(json.dumps(tomllib.load(open(sys.argv[1],"rb"))))', 'fly.toml'],
    { cwd: deployDir, encoding: 'utf8' },
  );
  if (res.status !== 0 && /No module named 'tomllib'/.test(res.stderr))
    return t.skip('python3 < 3.11 lacks tomllib');
  assert.equal(res.status, 0, res.stderr);
  const fly = obj(JSON.parse(res.stdout), 'fly.toml');
  assert.equal(fly.kill_signal, 'SIGTERM');
  assert.ok(Number(fly.kill_timeout) > 10);
  const http = obj(fly.http_service, 'http_service');
  assert.equal(http.internal_port, 8080);
  assert.equal(obj(arr(http.checks, 'checks')[0], 'check').path, '/ready');
});

test('docs/deploy.md mentions every deploy file', () => {
  const doc = readFileSync(join(repoRoot, 'docs', 'deploy.md'), 'utf8');
  for (const f of walk(deployDir)) {
    const base = f.slice(f.lastIndexOf('/') + 1);
    assert.ok(doc.includes(base), `docs/deploy.md does not mention ${relative(deployDir, f)}`);
  }
});

import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { allowed, type K8sObject, type Peer, render, root, selects } from './k8s-model.ts';

const ROLES = ['api', 'worker', 'scheduler'] as const;
const parseSeconds = (d: string): number => {
  const m = /^(\d+)(ms|s|m)$/.exec(d);
  if (!m) throw new Error(`duration ${d}`);
  return Number(m[1]) * ({ ms: 0.001, s: 1, m: 60 } as const)[m[2] as 'ms' | 's' | 'm'];
};

for (const overlay of ['shared', 'dedicated'] as const) {
  describe(`deploy/k8s/overlays/${overlay} (rendered by kubectl kustomize)`, () => {
    const objects = render(`deploy/k8s/overlays/${overlay}`);
    const of = (kind: string) => objects.filter((o) => o.kind === kind);
    const get = (kind: string, name: string) => {
      const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
      if (!o) throw new Error(`${kind}/${name} not rendered`);
      return o;
    };
    const ns = of('Namespace')[0]!.metadata.name;
    const config = get('ConfigMap', 'tramline-config').data!;
    const drainSeconds = parseSeconds(config.TRAMLINE_SHUTDOWN_TIMEOUT!);
    const deployment = (role: string) => get('Deployment', `tramline-${role}`);
    const job = get('Job', 'tramline-migrate');
    const podSpecs: [string, K8sObject][] = [...ROLES.map((r) => [r, deployment(r)] as [string, K8sObject]), ['migrate', job]];
    const container = (o: K8sObject) => o.spec.template.spec.containers[0];

    it('one namespace, under the restricted Pod Security profile; every object lives in it', () => {
      expect(of('Namespace')).toHaveLength(1);
      expect(of('Namespace')[0]!.metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
      for (const o of objects) if (o.kind !== 'Namespace') expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(ns);
    });

    it('Deployments for api, worker and scheduler (one replica) from one pinned image; the migration Job too', () => {
      expect(
        of('Deployment')
          .map((d) => d.metadata.name)
          .sort(),
      ).toEqual(['tramline-api', 'tramline-scheduler', 'tramline-worker']);
      const images = new Set(podSpecs.map(([, o]) => container(o).image));
      expect(images.size).toBe(1);
      expect([...images][0]).toMatch(/^ghcr\.io\/tramline\/tramline(:\d+\.\d+\.\d+|@sha256:[0-9a-f]{64})$/);
      for (const r of ROLES) expect(container(deployment(r)).args).toEqual(['start', '--role', r]);
      expect(deployment('scheduler').spec.replicas).toBe(1);
    });

    it('rolling updates never take a pod away before its replacement is ready (maxUnavailable 0)', () => {
      for (const r of ROLES) {
        expect(deployment(r).spec.strategy).toMatchObject({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0 } });
        expect(deployment(r).spec.strategy.rollingUpdate.maxSurge).toBeGreaterThanOrEqual(1);
      }
    });

    it('api: readiness on /readyz, liveness on /healthz; preStop sleeps before SIGTERM; the grace period outlasts preStop + drain', () => {
      const c = container(deployment('api'));
      expect(c.readinessProbe.httpGet).toMatchObject({ path: '/readyz', port: 'http' });
      expect(c.livenessProbe.httpGet).toMatchObject({ path: '/healthz', port: 'http' });
      const preStop = c.lifecycle.preStop.sleep?.seconds ?? Number(c.lifecycle.preStop.exec?.command?.at(-1));
      expect(preStop).toBeGreaterThanOrEqual(5);
      // After SIGTERM: the drain delay, then a wait for a quiet second bounded by the shutdown timeout.
      const drainDelay = parseSeconds(config.TRAMLINE_DRAIN_DELAY ?? '0s');
      expect(drainDelay).toBeGreaterThan(0);
      expect(deployment('api').spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(preStop + drainDelay + drainSeconds);
      expect(deployment('api').spec.minReadySeconds).toBeGreaterThan(0);
    });

    it('worker and scheduler: readiness distinct from liveness; the grace period outlasts the drain', () => {
      for (const r of ['worker', 'scheduler']) {
        const c = container(deployment(r));
        expect(c.readinessProbe, r).toBeDefined();
        expect(c.livenessProbe, r).toBeDefined();
        expect(JSON.stringify(c.readinessProbe)).not.toBe(JSON.stringify(c.livenessProbe));
        // Liveness never depends on the database: /metrics samples it, a TCP check does not.
        expect(c.livenessProbe.httpGet?.path).not.toBe('/metrics');
        expect(deployment(r).spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(drainSeconds);
      }
    });

    it('requests and limits on every container', () => {
      for (const [name, o] of podSpecs) {
        for (const c of o.spec.template.spec.containers) {
          for (const k of ['requests', 'limits'])
            for (const r of ['cpu', 'memory']) expect(c.resources?.[k]?.[r], `${name} ${k}.${r}`).toBeDefined();
        }
      }
    });

    it('a ServiceAccount per role, with no API token mounted', () => {
      for (const [name, o] of podSpecs) {
        const sa = o.spec.template.spec.serviceAccountName;
        expect(sa).toBe(`tramline-${name}`);
        expect(get('ServiceAccount', sa).automountServiceAccountToken).toBe(false);
        expect(o.spec.template.spec.automountServiceAccountToken).toBe(false);
      }
      expect(new Set(podSpecs.map(([, o]) => o.spec.template.spec.serviceAccountName)).size).toBe(podSpecs.length);
    });

    it('restricted security context: non-root, read-only root filesystem, no capabilities, RuntimeDefault seccomp', () => {
      for (const [name, o] of podSpecs) {
        const pod = o.spec.template.spec;
        expect(pod.securityContext, name).toMatchObject({
          runAsNonRoot: true,
          runAsUser: 10001,
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(pod.hostNetwork ?? false).toBe(false);
        for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
          expect(c.securityContext, name).toMatchObject({
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          });
          expect(c.securityContext.capabilities.add ?? []).toEqual([]);
          // Writable places are volumes: /tmp and /data.
          expect(c.volumeMounts.map((m: { mountPath: string }) => m.mountPath).sort()).toEqual(['/data', '/tmp']);
        }
      }
    });

    it('Secrets by reference only: no Secret object, no secret value in the manifests', () => {
      expect(of('Secret')).toEqual([]);
      for (const [name, o] of podSpecs) {
        for (const e of container(o).env as { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string } } }[]) {
          if (/DATABASE_URL|REDIS_URL|KEY|TOKEN|PASSWORD|SECRET|DSN/.test(e.name)) {
            expect(e.value, `${name} ${e.name}`).toBeUndefined();
            expect(e.valueFrom?.secretKeyRef?.name, `${name} ${e.name}`).toMatch(/^tramline-/);
          }
        }
      }
      for (const cm of of('ConfigMap'))
        for (const key of Object.keys(cm.data ?? {}))
          expect(key).not.toMatch(/DATABASE_URL|REDIS_URL|MASTER_KEY|TOKEN|PASSWORD|SECRET|DSN/);
    });

    it('topology spread across zones for every role', () => {
      for (const r of ROLES) {
        const spread = deployment(r).spec.template.spec.topologySpreadConstraints as {
          topologyKey: string;
          labelSelector: { matchLabels: Record<string, string> };
        }[];
        const zone = spread.find((s) => s.topologyKey === 'topology.kubernetes.io/zone');
        expect(zone, r).toBeDefined();
        expect(selects(zone!.labelSelector, deployment(r).spec.template.metadata.labels)).toBe(true);
      }
    });

    it('Service and Ingress route the public paths to the api pods only; /metrics and /readyz are not exposed', () => {
      const svc = get('Service', 'tramline-api');
      expect(selects({ matchLabels: svc.spec.selector }, deployment('api').spec.template.metadata.labels)).toBe(true);
      for (const r of ['worker', 'scheduler'])
        expect(selects({ matchLabels: svc.spec.selector }, deployment(r).spec.template.metadata.labels)).toBe(false);
      const ing = get('Ingress', 'tramline-api');
      const paths = ing.spec.rules.flatMap(
        (r: { http: { paths: { path: string; backend: { service: { name: string; port: { name: string } } } }[] } }) => r.http.paths,
      );
      for (const p of paths) {
        expect(p.backend.service.name).toBe('tramline-api');
        expect(svc.spec.ports.map((x: { name: string }) => x.name)).toContain(p.backend.service.port.name);
      }
      const routed = paths.map((p: { path: string }) => p.path);
      expect(routed).toEqual(expect.arrayContaining(['/v1', '/app', '/portal', '/.well-known/tramline']));
      expect(routed.some((p: string) => p === '/' || p.startsWith('/metrics') || p.startsWith('/readyz'))).toBe(false);
      expect(ing.spec.tls[0].hosts).toEqual([ing.spec.rules[0].host]);
      expect(config.TRAMLINE_PUBLIC_URL).toBe(`https://${ing.spec.rules[0].host}`);
    });

    it('HPAs: api on CPU; workers on CPU and on queue lag (tramline_queue_oldest_due_age_seconds); the scheduler never scales', () => {
      const hpa = (r: string) => of('HorizontalPodAutoscaler').find((h) => h.spec.scaleTargetRef.name === `tramline-${r}`);
      const types = (r: string) =>
        hpa(r)!.spec.metrics.map(
          (m: { type: string; resource?: { name: string }; external?: { metric: { name: string } } }) =>
            m.resource?.name ?? m.external?.metric.name,
        );
      expect(types('api')).toEqual(['cpu']);
      expect(types('worker')).toEqual(['cpu', 'tramline_queue_oldest_due_age_seconds']);
      expect(hpa('scheduler')).toBeUndefined();
      // The HPA owns the replica count of what it scales: a deploy (kubectl apply) never resets it.
      for (const r of ['api', 'worker']) expect(deployment(r).spec.replicas, r).toBeUndefined();
      for (const r of ['api', 'worker']) {
        expect(hpa(r)!.spec.scaleTargetRef.kind).toBe('Deployment');
        expect(hpa(r)!.spec.minReplicas).toBeGreaterThanOrEqual(2);
      }
    });

    it('a PodDisruptionBudget per role, selecting its pods', () => {
      for (const r of ROLES) {
        const pdbs = of('PodDisruptionBudget').filter((p) => selects(p.spec.selector, deployment(r).spec.template.metadata.labels));
        expect(pdbs, r).toHaveLength(1);
        expect(pdbs[0]!.spec.maxUnavailable ?? 0).toBeGreaterThanOrEqual(1); // a drain can always proceed
      }
    });

    it('a ServiceMonitor scrapes /metrics of every role through Services whose ports exist', () => {
      const [sm] = of('ServiceMonitor');
      expect(sm).toBeDefined();
      const scraped = of('Service').filter((s) => selects(sm!.spec.selector, s.metadata.labels ?? {}));
      const smPorts = sm!.spec.endpoints.map((e: { port: string }) => e.port);
      for (const r of ROLES) {
        const svc = scraped.find((s) => selects({ matchLabels: s.spec.selector }, deployment(r).spec.template.metadata.labels));
        expect(svc, r).toBeDefined();
        expect(svc!.metadata.name).toMatch(/^tramline/); // the alerts' job=~"tramline.*"
        expect(
          svc!.spec.ports.some((p: { name: string }) => smPorts.includes(p.name)),
          r,
        ).toBe(true);
      }
    });

    it('the migration Job runs before the rollout (PreSync hook; rollout.sh order), never restarts in place, and runs `migrate`', () => {
      expect(job.metadata.annotations?.['argocd.argoproj.io/hook']).toBe('PreSync');
      expect(container(job).args).toEqual(['migrate']);
      expect(job.spec.template.spec.restartPolicy).toBe('Never');
      expect(job.spec.backoffLimit).toBeLessThanOrEqual(3);
      expect(job.spec.activeDeadlineSeconds).toBeGreaterThan(0);
    });

    describe('NetworkPolicies', () => {
      const policies = of('NetworkPolicy');
      const pod = (labels: Record<string, string>, namespace = ns): Peer => ({ pod: { namespace, labels } });
      const role = (r: string) => pod(r === 'migrate' ? job.spec.template.metadata.labels : deployment(r).spec.template.metadata.labels);
      const stranger = pod({ app: 'something-else' });
      const ingressController = pod({ 'app.kubernetes.io/name': 'ingress-nginx' }, 'ingress-nginx');
      const prometheus = pod({ 'app.kubernetes.io/name': 'prometheus' }, 'monitoring');
      const postgres = { ip: '10.0.96.10' };
      const kubeDns = pod({ 'k8s-app': 'kube-dns' }, 'kube-system');
      const internet = { ip: '203.0.113.10' };

      it('deny by default, in and out, for every pod of the namespace', () => {
        expect(
          policies.some(
            (p) =>
              Object.keys(p.spec.podSelector).length === 0 &&
              p.spec.policyTypes.includes('Ingress') &&
              p.spec.policyTypes.includes('Egress') &&
              !p.spec.ingress &&
              !p.spec.egress,
          ),
        ).toBe(true);
        expect(allowed(policies, stranger, internet, 443)).toBe(false);
        expect(allowed(policies, stranger, postgres, 5432)).toBe(false);
        expect(allowed(policies, pod({ app: 'x' }, 'other'), stranger, 80)).toBe(false);
      });

      it('DNS is allowed to every pod', () => {
        for (const p of [...ROLES, 'migrate']) {
          expect(allowed(policies, role(p), kubeDns, 53, 'UDP'), p).toBe(true);
          expect(allowed(policies, role(p), kubeDns, 53, 'TCP'), p).toBe(true);
        }
      });

      it('only the ingress controller reaches the api (Prometheus only scrapes)', () => {
        expect(allowed(policies, ingressController, role('api'), 8080)).toBe(true);
        for (const from of [
          role('worker'),
          role('scheduler'),
          stranger,
          pod({ 'app.kubernetes.io/name': 'ingress-nginx' }, 'default'),
          pod({ app: 'x' }, 'ingress-nginx'),
        ]) {
          expect(allowed(policies, from, role('api'), 8080)).toBe(false);
        }
        expect(allowed(policies, prometheus, role('api'), 8080)).toBe(true);
        expect(allowed(policies, prometheus, role('worker'), 9464)).toBe(true);
        expect(allowed(policies, ingressController, role('worker'), 9464)).toBe(false);
        expect(allowed(policies, prometheus, role('worker'), 22)).toBe(false);
      });

      it('only api, worker, scheduler (and the migration) reach Postgres and Redis', () => {
        for (const r of [...ROLES, 'migrate']) {
          expect(allowed(policies, role(r), postgres, 5432), r).toBe(true);
          expect(allowed(policies, role(r), { ip: '10.0.100.7' }, 6379), r).toBe(true);
        }
        expect(allowed(policies, stranger, postgres, 5432)).toBe(false);
        expect(allowed(policies, stranger, { ip: '10.0.100.7' }, 6379)).toBe(false);
      });

      it('only workers reach the internet, and never private, loopback, link-local (metadata) or CGNAT addresses', () => {
        expect(allowed(policies, role('worker'), internet, 443)).toBe(true);
        expect(allowed(policies, role('worker'), { ip: '198.51.100.7' }, 8443)).toBe(true);
        expect(allowed(policies, role('worker'), { ip: '2001:db8::1' }, 443)).toBe(true);
        for (const r of ['api', 'scheduler', 'migrate']) expect(allowed(policies, role(r), internet, 443), r).toBe(false);
        for (const ip of ['169.254.169.254', '10.0.1.5', '172.16.0.1', '192.168.1.1', '100.64.0.1', '127.0.0.1', 'fd00::1', 'fe80::1']) {
          expect(allowed(policies, role('worker'), { ip }, 80), ip).toBe(false);
        }
      });
    });
  });
}

describe('shared vs dedicated: a dedicated instance is a values change', () => {
  const shared = render('deploy/k8s/overlays/shared');
  const dedicated = render('deploy/k8s/overlays/dedicated');
  const pods = (objs: K8sObject[]) => objs.filter((o) => o.kind === 'Deployment' || o.kind === 'Job');
  const secretRefs = (objs: K8sObject[]) =>
    new Set(
      pods(objs).flatMap((o) =>
        o.spec.template.spec.containers[0].env
          .map((e: { valueFrom?: { secretKeyRef?: { name: string } } }) => e.valueFrom?.secretKeyRef?.name)
          .filter(Boolean),
      ),
    );

  it('the same objects, in its own namespace', () => {
    const names = (objs: K8sObject[]) => objs.map((o) => `${o.kind}/${o.kind === 'Namespace' ? '' : o.metadata.name}`).sort();
    expect(names(dedicated)).toEqual(names(shared));
    const nsOf = (objs: K8sObject[]) => objs.find((o) => o.kind === 'Namespace')!.metadata.name;
    expect(nsOf(dedicated)).not.toBe(nsOf(shared));
  });

  it('its own database, Redis, master key and operator token (Secret references, none shared)', () => {
    const a = secretRefs(shared);
    const b = secretRefs(dedicated);
    expect(b.size).toBe(a.size);
    for (const s of b) expect(a.has(s), s).toBe(false);
    expect([...b]).toEqual(expect.arrayContaining(['tramline-acme-database', 'tramline-acme-master-key']));
  });

  it('pinned to the tenant: every pod on the customer’s own nodes; the shared fleet has no such pinning', () => {
    for (const o of pods(dedicated)) {
      const spec = o.spec.template.spec;
      expect(spec.nodeSelector, o.metadata.name).toEqual({ 'tramline.dev/tenant': 'acme' });
      expect(spec.tolerations).toEqual([{ key: 'tramline.dev/tenant', operator: 'Equal', value: 'acme', effect: 'NoSchedule' }]);
      expect(o.spec.template.metadata.labels['tramline.dev/tenant']).toBe('acme');
    }
    for (const o of pods(shared)) expect(o.spec.template.spec.nodeSelector).toBeUndefined();
    expect(dedicated.find((o) => o.kind === 'Ingress')!.spec.rules[0].host).toBe('acme.webhooks.example.com');
  });

  it('the dedicated overlay changes values, not structure: only values.yaml and its kustomization differ from the shared one', () => {
    // The instance's values are one small file; the local-config ConfigMap never reaches the cluster.
    const values = readFileSync(path.join(root, 'deploy/k8s/overlays/dedicated/values.yaml'), 'utf8');
    expect(values).toContain('config.kubernetes.io/local-config');
    expect(dedicated.some((o) => o.metadata.name === 'instance-values')).toBe(false);
  });
});

describe('deploy/k8s/components/external-secrets (optional): where the referenced Secrets come from', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tramline-eso-'));
  const rel = (p: string) => path.relative(dir, path.join(root, p));
  writeFileSync(
    path.join(dir, 'kustomization.yaml'),
    `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: tramline\nresources:\n  - ${rel('deploy/k8s/overlays/shared')}\ncomponents:\n  - ${rel('deploy/k8s/components/external-secrets')}\n`,
  );
  const objects = (() => {
    try {
      return parseAllDocuments(execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' })).map((d) => d.toJS() as K8sObject);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })();
  const external = objects.filter((o) => o.kind === 'ExternalSecret');

  it('fills every Secret key the pods reference, from AWS Secrets Manager, with no value in the repository', () => {
    const refs = objects
      .filter((o) => o.kind === 'Deployment' || o.kind === 'Job')
      .flatMap((o) => o.spec.template.spec.containers[0].env)
      .map((e: { valueFrom?: { secretKeyRef?: { name: string; key: string } } }) => e.valueFrom?.secretKeyRef)
      .filter(Boolean) as { name: string; key: string }[];
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      const es = external.find((e) => e.spec.target.name === ref.name);
      expect(es, ref.name).toBeDefined();
      const keys = [
        ...Object.keys(es!.spec.target.template?.data ?? {}),
        ...(es!.spec.data ?? []).map((d: { secretKey: string }) => d.secretKey),
      ];
      expect(keys, `${ref.name}.${ref.key}`).toContain(ref.key);
      expect(es!.spec.secretStoreRef).toEqual({ kind: 'ClusterSecretStore', name: 'aws-secrets-manager' });
    }
    for (const es of external) expect(es.metadata.namespace).toBe('tramline');
  });

  it('reads the secrets deploy/aws creates, by the names it gives them', () => {
    const stack = readFileSync(path.join(root, 'deploy/aws/lib/region-stack.ts'), 'utf8');
    const remote = external.flatMap((e) => [
      ...(e.spec.dataFrom ?? []).map((d: { extract: { key: string } }) => d.extract.key),
      ...(e.spec.data ?? []).map((d: { remoteRef: { key: string } }) => d.remoteRef.key),
    ]);
    for (const created of ['tramline/database', 'tramline/redis-auth']) {
      expect(stack).toContain(`secretName: '${created}'`);
      expect(remote).toContain(created);
    }
  });
});

describe('deploy/k8s/rollout.sh', () => {
  it('passes shellcheck', () => {
    try {
      execFileSync('shellcheck', ['--version'], { stdio: 'ignore' });
    } catch {
      console.log('shellcheck is not installed: rollout.sh not linted');
      return;
    }
    execFileSync('shellcheck', [path.join(root, 'deploy/k8s/rollout.sh')]);
  });

  it('applies the migration Job and waits for it before any Deployment; stops when the migration fails', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tramline-rollout-'));
    try {
      // A stand-in for kubectl against a cluster: records each call and the kinds of the files it applies.
      const fake = path.join(dir, 'kubectl');
      writeFileSync(
        fake,
        `#!/bin/sh
echo "CALL $*" >> "${dir}/log"
prev=""
for a in "$@"; do
  if [ "$prev" = "-f" ]; then grep '^kind:' "$a" | sed 's/^/  /' >> "${dir}/log"; grep -h 'image:' "$a" | sort -u | sed 's/^ */  /' >> "${dir}/log"; fi
  prev="$a"
done
case "$*" in
  *"wait --for=condition=complete"*) [ -z "$FAIL_MIGRATION" ] ;;
  *"get namespace"*) [ -n "$NAMESPACE_EXISTS" ] ;;
esac
`,
      );
      chmodSync(fake, 0o755);
      const run = (env: Record<string, string>) =>
        promisify(execFile)(
          'bash',
          [path.join(root, 'deploy/k8s/rollout.sh'), 'deploy/k8s/overlays/dedicated', 'registry.example.com/tramline:1.2.3'],
          {
            cwd: root,
            env: { ...process.env, KUBECTL: fake, ...env },
          },
        );
      await run({});
      const log = readFileSync(path.join(dir, 'log'), 'utf8');
      const calls = log.split('\n').filter((l) => l.startsWith('CALL'));
      const at = (re: RegExp) => log.search(re);
      expect(at(/kind: Job/)).toBeGreaterThan(0);
      expect(at(/wait --for=condition=complete job\/tramline-migrate/)).toBeGreaterThan(at(/kind: Job/));
      expect(at(/kind: Deployment/)).toBeGreaterThan(at(/wait --for=condition=complete/));
      expect(calls.filter((c) => c.includes('rollout status'))).toHaveLength(3);
      expect(log).toContain('image: registry.example.com/tramline:1.2.3');
      expect(log).not.toContain('image: ghcr.io/tramline/tramline');
      expect(calls.some((c) => c.includes('-n tramline-acme'))).toBe(true);

      expect(at(/kind: Namespace/)).toBeLessThan(at(/kind: Job/));

      // The CI role cannot touch cluster-scoped objects: an existing namespace is left alone.
      rmSync(path.join(dir, 'log'));
      await run({ NAMESPACE_EXISTS: '1' });
      expect(readFileSync(path.join(dir, 'log'), 'utf8')).not.toContain('kind: Namespace');

      rmSync(path.join(dir, 'log'));
      await expect(run({ FAIL_MIGRATION: '1' })).rejects.toThrow(/migration failed/);
      expect(readFileSync(path.join(dir, 'log'), 'utf8')).not.toContain('kind: Deployment');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Reading rendered Kubernetes manifests for tests: `kubectl kustomize` an overlay, parse the stream,
 * and a small evaluator of NetworkPolicies (which peers may reach which pods), so the tests state the
 * intent ("only workers reach the internet") rather than the YAML.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import { parseAllDocuments } from 'yaml';

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
} & Record<string, any>;

export const root = path.resolve(import.meta.dirname, '../..');

export function render(dir: string): K8sObject[] {
  const out = execFileSync('kubectl', ['kustomize', path.join(root, dir)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return parseAllDocuments(out).map((d) => {
    if (d.errors.length > 0) throw d.errors[0];
    return d.toJS() as K8sObject;
  });
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = k(labels, e.key);
    if (e.operator === 'In' && !(has && e.values!.includes(labels[e.key]!))) return false;
    if (e.operator === 'NotIn' && has && e.values!.includes(labels[e.key]!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}
const k = (o: Record<string, string>, key: string) => Object.hasOwn(o, key);

/** A party to a connection: a pod (namespace and labels) or an address outside the cluster. */
export type Peer = { pod: { namespace: string; labels: Record<string, string> } } | { ip: string };

interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

const inCidr = (ip: string, cidr: string): boolean => {
  const addr = ipaddr.parse(ip);
  const [range, bits] = ipaddr.parseCIDR(cidr);
  return addr.kind() === range.kind() && addr.match(range, bits);
};

function peerMatches(p: NetworkPolicyPeer, peer: Peer, policyNamespace: string): boolean {
  if ('ip' in peer) {
    if (!p.ipBlock) return false;
    return inCidr(peer.ip, p.ipBlock.cidr) && !(p.ipBlock.except ?? []).some((c) => inCidr(peer.ip, c));
  }
  if (p.ipBlock) return false; // ipBlock is meant for addresses outside the cluster
  const nsLabels = { 'kubernetes.io/metadata.name': peer.pod.namespace };
  if (p.namespaceSelector) {
    if (!selects(p.namespaceSelector, nsLabels)) return false;
  } else if (peer.pod.namespace !== policyNamespace) return false;
  return p.podSelector ? selects(p.podSelector, peer.pod.labels) : true;
}

/**
 * May `from` open a connection to `to` on `port`/TCP (or UDP)? Both directions must allow it: the
 * egress policies selecting the source pod (when it is in `namespace`) and the ingress policies
 * selecting the target pod (when it is). A pod no policy selects is unrestricted in that direction.
 */
export function allowed(policies: K8sObject[], from: Peer, to: Peer, port: number, protocol: 'TCP' | 'UDP' = 'TCP'): boolean {
  const direction = (pod: { namespace: string; labels: Record<string, string> }, type: 'Ingress' | 'Egress', other: Peer): boolean => {
    const applying = policies.filter(
      (p) =>
        (p.metadata.namespace ?? '') === pod.namespace &&
        (p.spec.policyTypes ?? ['Ingress']).includes(type) &&
        selects(p.spec.podSelector, pod.labels),
    );
    if (applying.length === 0) return true;
    return applying.some((p) =>
      ((type === 'Ingress' ? p.spec.ingress : p.spec.egress) ?? []).some(
        (rule: { from?: NetworkPolicyPeer[]; to?: NetworkPolicyPeer[]; ports?: { port?: number; protocol?: string }[] }) => {
          const peers = type === 'Ingress' ? rule.from : rule.to;
          const peerOk = !peers || peers.length === 0 || peers.some((x) => peerMatches(x, other, pod.namespace));
          const portOk =
            !rule.ports ||
            rule.ports.length === 0 ||
            rule.ports.some((x) => (x.protocol ?? 'TCP') === protocol && (x.port === undefined || x.port === port));
          return peerOk && portOk;
        },
      ),
    );
  };
  if ('pod' in from && !direction(from.pod, 'Egress', to)) return false;
  if ('pod' in to && !direction(to.pod, 'Ingress', from)) return false;
  return true;
}

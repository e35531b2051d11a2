import type { App } from 'aws-cdk-lib';

/**
 * The deployment's parameters, read once from CDK context (cdk.json, or `-c key=value`), never from the
 * environment: `cdk synth` gives the same templates on every machine, offline.
 */
export interface Settings {
  /** Where tenants live by default; the CI deploy role and the GitHub OIDC provider (account-wide) are created here. */
  readonly primaryRegion: string;
  /** A second, independent region ('' = none). Tenants whose home it is live there, and only there. */
  readonly secondaryRegion: string;
  readonly availabilityZones: Record<string, string[]>;
  /** The VPC of every region (regions are not peered: a tenant's data never leaves its home region). */
  readonly vpcCidr: string;
  /** Kubernetes namespaces of the instances (deploy/k8s overlays) whose ServiceAccounts get AWS roles. */
  readonly namespaces: string[];
  /** Customers with a dedicated instance: each gets its own tainted node group (deploy/k8s/overlays/dedicated). */
  readonly dedicatedTenants: string[];
  /** owner/name of the repository whose workflows may deploy (GitHub OIDC). */
  readonly githubRepository: string;
  /** CIDRs allowed to the EKS API endpoint from outside the VPC; empty: private endpoint only. */
  readonly eksPublicAccessCidrs: string[];
  /** Public host name of the region's API (the ingress' load balancer); '' = the CDN serves the static assets only. */
  readonly apiOriginDomain: string;
}

export function readSettings(app: App): Settings {
  const get = <T>(key: string, fallback: T): T => (app.node.tryGetContext(`tramline:${key}`) as T | undefined) ?? fallback;
  const list = (key: string): string[] => {
    const v = get<string[] | string>(key, []);
    return Array.isArray(v) ? v : v.split(',').map((s) => s.trim()).filter(Boolean);
  };
  const settings: Settings = {
    primaryRegion: get('primaryRegion', 'eu-west-1'),
    secondaryRegion: get('secondaryRegion', ''),
    availabilityZones: get('availabilityZones', {}),
    vpcCidr: get('vpcCidr', '10.0.0.0/16'),
    namespaces: list('namespaces'),
    dedicatedTenants: list('dedicatedTenants'),
    githubRepository: get('githubRepository', 'tramline/tramline'),
    eksPublicAccessCidrs: list('eksPublicAccessCidrs'),
    apiOriginDomain: get('apiOriginDomain', ''),
  };
  for (const region of [settings.primaryRegion, settings.secondaryRegion].filter(Boolean)) {
    const azs = settings.availabilityZones[region];
    if (!azs || azs.length < 3) throw new Error(`context tramline:availabilityZones must list three zones for ${region}`);
  }
  if (settings.secondaryRegion === settings.primaryRegion) throw new Error('tramline:secondaryRegion must differ from tramline:primaryRegion');
  return settings;
}

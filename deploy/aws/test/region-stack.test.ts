import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../lib/app.ts';

const dir = path.resolve(import.meta.dirname, '..');
const cdkJson = JSON.parse(readFileSync(path.join(dir, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation resources are read field by field
type Resource = { Type: string; Properties?: any; DeletionPolicy?: string; UpdateReplacePolicy?: string };

let templates: Template[];
let resources: Record<string, Resource>[];

beforeAll(() => {
  // The primary region and a second one given as a parameter (context), as `cdk synth -c …` would.
  const app = new App({ context: { ...cdkJson.context, 'tramline:secondaryRegion': 'us-east-1' } });
  const stacks = buildApp(app);
  templates = stacks.map((s) => Template.fromStack(s));
  resources = templates.map((t) => t.toJSON().Resources as Record<string, Resource>);
});

const ofType = (r: Record<string, Resource>, type: string) => Object.entries(r).filter(([, v]) => v.Type === type);
const statementsOf = (r: Record<string, Resource>) =>
  Object.entries(r).flatMap(([id, v]) => {
    const docs = [v.Properties?.PolicyDocument, v.Properties?.KeyPolicy, v.Properties?.AssumeRolePolicyDocument, ...(v.Properties?.Policies ?? []).map((p: { PolicyDocument: unknown }) => p.PolicyDocument)].filter(Boolean);
    return docs.flatMap((d: { Statement: unknown[] }) => d.Statement.map((s) => ({ id, type: v.Type, s: s as { Effect: string; Action?: string | string[]; NotAction?: unknown; Resource?: unknown; Principal?: unknown } })));
  });
const actions = (s: { Action?: string | string[] }) => (s.Action === undefined ? [] : Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('Tramline on AWS (CDK assertions)', () => {
  it('a region is a stack; the second region is a parameter', () => {
    expect(templates).toHaveLength(2);
  });

  it('a VPC across three zones: public, private (cluster) and isolated (data) subnets; a NAT gateway per zone', () => {
    for (const r of resources) {
      const subnets = ofType(r, 'AWS::EC2::Subnet').map(([, s]) => s.Properties);
      expect(subnets).toHaveLength(9);
      expect(new Set(subnets.map((s) => s.AvailabilityZone)).size).toBe(3);
      expect(ofType(r, 'AWS::EC2::NatGateway')).toHaveLength(3);
      // No subnet gives its instances public addresses except the public ones (NAT, load balancer).
      const publicOnes = subnets.filter((s) => s.MapPublicIpOnLaunch === true);
      expect(publicOnes).toHaveLength(3);
    }
  });

  it('PostgreSQL: Multi-AZ, encrypted with the storage key, not public, TLS only, backups with PITR, deletion protection', () => {
    for (const t of templates) {
      t.hasResource('AWS::RDS::DBInstance', {
        Properties: Match.objectLike({
          Engine: 'postgres',
          MultiAZ: true,
          StorageEncrypted: true,
          KmsKeyId: Match.anyValue(),
          PubliclyAccessible: false,
          DeletionProtection: true,
          BackupRetentionPeriod: Match.anyValue(),
          EnablePerformanceInsights: true,
          PerformanceInsightsKMSKeyId: Match.anyValue(),
        }),
        DeletionPolicy: 'Snapshot',
      });
      t.hasResourceProperties('AWS::RDS::DBParameterGroup', { Parameters: Match.objectLike({ 'rds.force_ssl': '1' }) });
    }
    for (const r of resources) {
      const [, db] = ofType(r, 'AWS::RDS::DBInstance')[0]!;
      expect(db.Properties.BackupRetentionPeriod).toBeGreaterThanOrEqual(7);
    }
  });

  it('Redis: TLS required, encrypted at rest with the storage key, AUTH token by reference, failover to another zone', () => {
    for (const t of templates) {
      t.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
        TransitEncryptionEnabled: true,
        TransitEncryptionMode: 'required',
        AtRestEncryptionEnabled: true,
        KmsKeyId: Match.anyValue(),
        MultiAZEnabled: true,
        AutomaticFailoverEnabled: true,
        AuthToken: Match.anyValue(),
      });
    }
    for (const r of resources) {
      const [, rg] = ofType(r, 'AWS::ElastiCache::ReplicationGroup')[0]!;
      expect(JSON.stringify(rg.Properties.AuthToken)).toContain('resolve:secretsmanager');
    }
  });

  it('no public database or cache: isolated subnets, and their security groups admit only the cluster on their port', () => {
    for (const r of resources) {
      const isolated = new Set(ofType(r, 'AWS::EC2::Subnet').filter(([, s]) => s.Properties.Tags.some((t: { Key: string; Value: string }) => t.Key === 'aws-cdk:subnet-type' && t.Value === 'Isolated')).map(([id]) => id));
      expect(isolated.size).toBe(3);
      const refs = (list: { Ref: string }[]) => list.map((x) => x.Ref);
      expect(new Set(refs(ofType(r, 'AWS::RDS::DBSubnetGroup')[0]![1].Properties.SubnetIds))).toEqual(isolated);
      expect(new Set(refs(ofType(r, 'AWS::ElastiCache::SubnetGroup')[0]![1].Properties.SubnetIds))).toEqual(isolated);
      // Isolated subnets have no route out at all (no internet or NAT gateway).
      const tables = ofType(r, 'AWS::EC2::SubnetRouteTableAssociation').filter(([, a]) => isolated.has(a.Properties.SubnetId.Ref)).map(([, a]) => a.Properties.RouteTableId.Ref);
      for (const [, route] of ofType(r, 'AWS::EC2::Route')) expect(tables).not.toContain(route.Properties.RouteTableId.Ref);

      for (const [, sg] of ofType(r, 'AWS::EC2::SecurityGroup')) {
        for (const rule of sg.Properties.SecurityGroupIngress ?? []) expect(rule.CidrIp, sg.Properties.GroupDescription).not.toBe('0.0.0.0/0');
      }
      const ingress = ofType(r, 'AWS::EC2::SecurityGroupIngress').map(([, i]) => i.Properties);
      const byPort = (p: number) => ingress.filter((i) => i.FromPort === p);
      for (const port of [5432, 6379]) {
        expect(byPort(port)).toHaveLength(1);
        expect(byPort(port)[0].SourceSecurityGroupId).toBeDefined(); // from the cluster's security group, never a CIDR
        expect(byPort(port)[0].CidrIp).toBeUndefined();
      }
    }
  });

  it('S3: every bucket encrypted, private, TLS only; backups versioned, SSE-KMS, with a lifecycle, kept on stack deletion', () => {
    for (const r of resources) {
      const buckets = ofType(r, 'AWS::S3::Bucket');
      expect(buckets.length).toBeGreaterThanOrEqual(2);
      for (const [id, b] of buckets) {
        expect(b.Properties.BucketEncryption?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault?.SSEAlgorithm, id).toMatch(/^(aws:kms|AES256)$/);
        expect(b.Properties.PublicAccessBlockConfiguration, id).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
        expect(b.DeletionPolicy, id).toBe('Retain');
        const policy = ofType(r, 'AWS::S3::BucketPolicy').find(([, p]) => p.Properties.Bucket.Ref === id);
        expect(policy, id).toBeDefined();
        expect(JSON.stringify(policy![1].Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
      }
      const backups = buckets.filter(([id]) => id.startsWith('Backups'));
      expect(backups).toHaveLength(1);
      const b = backups[0]![1].Properties;
      expect(b.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(b.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault).toMatchObject({ SSEAlgorithm: 'aws:kms', KMSMasterKeyID: expect.anything() });
      expect(b.LifecycleConfiguration.Rules[0]).toMatchObject({ Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 90 } });
    }
  });

  it('KMS: keys rotate, are kept on stack deletion, and one of them wraps the tenants’ data keys', () => {
    for (const r of resources) {
      const keys = ofType(r, 'AWS::KMS::Key');
      expect(keys).toHaveLength(2);
      for (const [id, k] of keys) {
        expect(k.Properties.EnableKeyRotation, id).toBe(true);
        expect(k.DeletionPolicy, id).toBe('Retain');
      }
      expect(keys.some(([, k]) => /wraps each tenant data key/.test(k.Properties.Description))).toBe(true);
    }
  });

  it('encryption everywhere: EKS secrets, Secrets Manager secrets, RDS, Redis, buckets', () => {
    for (const r of resources) {
      const [, cluster] = ofType(r, 'AWS::EKS::Cluster')[0]!;
      expect(cluster.Properties.EncryptionConfig[0].Resources).toEqual(['secrets']);
      expect(cluster.Properties.EncryptionConfig[0].Provider.KeyArn).toBeDefined();
      for (const [id, s] of ofType(r, 'AWS::SecretsManager::Secret')) expect(s.Properties.KmsKeyId, id).toBeDefined();
    }
  });

  it('no `*` action allowed by any policy (IAM, key and bucket policies); no IAM Allow on every resource', () => {
    for (const r of resources) {
      const statements = statementsOf(r);
      expect(statements.length).toBeGreaterThan(10);
      for (const { id, type, s } of statements) {
        expect(s.NotAction, id).toBeUndefined();
        // A Deny may be broad: the buckets deny s3:* to any request without TLS (enforceSSL).
        if (s.Effect === 'Deny') continue;
        for (const a of actions(s)) {
          expect(a, `${type} ${id}`).not.toBe('*');
          expect(a, `${type} ${id}`).not.toMatch(/:\*$/);
        }
        if (type === 'AWS::IAM::Policy' && s.Effect === 'Allow') expect(s.Resource, id).not.toBe('*');
      }
    }
  });

  it('least privilege per role: api wraps and unwraps tenant keys, worker only unwraps, scheduler only touches backups; bound to each ServiceAccount', () => {
    for (const r of resources) {
      const policy = (prefix: string) => ofType(r, 'AWS::IAM::Policy').find(([id]) => id.startsWith(prefix))![1].Properties.PolicyDocument.Statement as { Action: string | string[] }[];
      const all = (prefix: string) => policy(prefix).flatMap((s) => actions(s)).sort();
      expect(all('ApiPolicy')).toEqual(['kms:Decrypt', 'kms:Encrypt']);
      expect(all('WorkerPolicy')).toEqual(['kms:Decrypt']);
      // The tenant key only for tenant data keys: the encryption context Tramline binds each wrap to.
      for (const prefix of ['ApiPolicy', 'WorkerPolicy']) {
        for (const st of policy(prefix) as { Condition?: unknown }[]) {
          expect(st.Condition, prefix).toEqual({ StringLike: { 'kms:EncryptionContext:tramline:context': 'tenant-key:*' } });
        }
      }
      expect(all('SchedulerPolicy')).toEqual(['kms:Decrypt', 'kms:GenerateDataKey', 's3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:ListBucket', 's3:PutObject']);
      const associations = ofType(r, 'AWS::EKS::PodIdentityAssociation').map(([, a]) => `${a.Properties.Namespace}/${a.Properties.ServiceAccount}`);
      for (const ns of ['tramline', 'tramline-acme']) for (const role of ['api', 'worker', 'scheduler']) expect(associations).toContain(`${ns}/tramline-${role}`);
      expect(associations.some((a) => a.endsWith('tramline-migrate'))).toBe(false);
    }
  });

  it('EKS: private endpoint, control-plane logs, network policies enforced, a tainted node group for the dedicated customer, CI limited to the Tramline namespaces', () => {
    for (const t of templates) {
      t.hasResourceProperties('AWS::EKS::Cluster', {
        ResourcesVpcConfig: Match.objectLike({ EndpointPrivateAccess: true, EndpointPublicAccess: false }),
        Logging: { ClusterLogging: { EnabledTypes: Match.arrayWith([{ Type: 'api' }, { Type: 'audit' }]) } },
      });
      t.hasResourceProperties('AWS::EKS::Addon', { AddonName: 'vpc-cni', ConfigurationValues: Match.stringLikeRegexp('"enableNetworkPolicy":"true"') });
      t.hasResourceProperties('AWS::EKS::Nodegroup', { Labels: { 'tramline.dev/tenant': 'acme' }, Taints: [{ Key: 'tramline.dev/tenant', Value: 'acme', Effect: 'NO_SCHEDULE' }] });
      t.hasResourceProperties('AWS::EKS::AccessEntry', { AccessPolicies: [Match.objectLike({ AccessScope: { Type: 'namespace', Namespaces: ['tramline', 'tramline-acme'] } })] });
    }
  });

  it('CloudFront serves the web assets over HTTPS from a private bucket (origin access control)', () => {
    for (const t of templates) {
      t.hasResourceProperties('AWS::CloudFront::Distribution', {
        DistributionConfig: Match.objectLike({ DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }) }),
      });
      t.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    }
  });

  it('the GitHub OIDC provider and deploy role exist once (account-wide), only for rc/* branches and v* tags', () => {
    const counts = resources.map((r) => ofType(r, 'AWS::IAM::OIDCProvider').length);
    expect(counts).toEqual([1, 0]);
    const [, role] = ofType(resources[0]!, 'AWS::IAM::Role').find(([id]) => id.startsWith('DeployRole'))!;
    expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Condition.StringLike['token.actions.githubusercontent.com:sub']).toEqual([
      'repo:tramline/tramline:ref:refs/heads/rc/*',
      'repo:tramline/tramline:ref:refs/tags/v*',
    ]);
  });
});

describe('cdk synth (the CLI, offline)', () => {
  it('synthesises the default region (cdk.json context) without network or credentials', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'tramline-cdk-'));
    try {
      await promisify(execFile)(path.join(dir, 'node_modules/.bin/cdk'), ['synth', '--no-notices', '--quiet', '-o', out], {
        cwd: dir,
        env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', AWS_EC2_METADATA_DISABLED: 'true' },
        timeout: 280_000,
      });
      expect(readdirSync(out).filter((f) => f.endsWith('.template.json')).sort()).toEqual(['Tramline-eu-west-1.template.json']);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

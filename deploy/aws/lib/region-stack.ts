import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { Settings } from './settings.ts';

export interface RegionStackProps extends StackProps {
  readonly settings: Settings;
  /** The primary region also holds the account-wide parts: GitHub's OIDC provider and the CI deploy role. */
  readonly primary: boolean;
}

/** The Kubernetes ServiceAccounts of deploy/k8s (one per role) and the AWS permissions each one gets. */
export const ROLES = ['api', 'worker', 'scheduler'] as const;
export type Role = (typeof ROLES)[number];

/**
 * One Tramline region: a VPC across three zones; PostgreSQL (RDS, Multi-AZ) and Redis (ElastiCache,
 * TLS) in isolated subnets reachable only from the cluster's nodes; an EKS cluster running the
 * workloads of deploy/k8s; a KMS key that wraps the tenants' data keys; a versioned, encrypted bucket
 * for backups; CloudFront for the web app's static assets. Every choice is checked by test/region-stack.test.ts.
 */
export class RegionStack extends Stack {
  readonly vpc: ec2.Vpc;
  readonly cluster: eks.Cluster;
  readonly database: rds.DatabaseInstance;
  readonly backups: s3.Bucket;
  readonly tenantKeys: kms.Key;
  readonly roles: Record<Role, iam.Role>;

  constructor(scope: Construct, id: string, props: RegionStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const region = this.region;

    // --- Keys. Two, by purpose: one for data at rest (database, cache, buckets, Kubernetes Secrets),
    // one that wraps the tenants' data keys (envelope encryption of endpoint secrets; the KeyWrapper).
    // Key policies list actions: no kms:* even for the account's administrators.
    const storageKey = this.key('StorageKey', 'Tramline data at rest: RDS, ElastiCache, S3, EKS secrets, Secrets Manager', [
      // RDS, ElastiCache, EKS and Secrets Manager use the key through grants, on the account's behalf.
      new iam.PolicyStatement({
        sid: 'AwsServicesInThisAccount',
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:CreateGrant', 'kms:DescribeKey'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'kms:CallerAccount': this.account },
          StringLike: { 'kms:ViaService': ['rds', 'elasticache', 'secretsmanager', 'eks', 's3'].map((s) => `${s}.${region}.amazonaws.com`) },
        },
      }),
    ]);
    this.tenantKeys = this.key('TenantKeyWrappingKey', 'Tramline: wraps each tenant data key (envelope encryption of secrets at rest)', []);

    // --- Network: three zones; public subnets hold only the NAT gateways and the ingress load balancer,
    // the cluster runs in private subnets, the database and cache in isolated ones (no route out).
    const azs = settings.availabilityZones[region]!;
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(settings.vpcCidr),
      availabilityZones: azs.slice(0, 3),
      natGateways: 3, // one per zone: losing a zone never cuts the others' webhooks off the internet
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 22 },
        { name: 'cluster', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 19 },
        { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 22 },
      ],
      restrictDefaultSecurityGroup: false,
    });
    // AWS APIs from inside the VPC (S3 backups, KMS, STS for pod identities, Secrets Manager, ECR pulls):
    // private addresses on 443, which is all the scheduler's NetworkPolicy allows it.
    const endpointsSg = new ec2.SecurityGroup(this, 'EndpointsSg', { vpc: this.vpc, allowAllOutbound: false, description: 'Interface endpoints: 443 from the VPC' });
    endpointsSg.addIngressRule(ec2.Peer.ipv4(this.vpc.vpcCidrBlock), ec2.Port.tcp(443), 'HTTPS from the VPC');
    const endpoints: [string, ec2.InterfaceVpcEndpointAwsService][] = [
      ['Kms', ec2.InterfaceVpcEndpointAwsService.KMS],
      ['Sts', ec2.InterfaceVpcEndpointAwsService.STS],
      ['SecretsManager', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
      ['EcrApi', ec2.InterfaceVpcEndpointAwsService.ECR],
      ['EcrDocker', ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER],
      ['S3', ec2.InterfaceVpcEndpointAwsService.S3],
    ];
    for (const [name, service] of endpoints) {
      this.vpc.addInterfaceEndpoint(name, { service, securityGroups: [endpointsSg], subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }, privateDnsEnabled: true });
    }

    // --- The cluster. Kubernetes Secrets are encrypted with the storage key; the API endpoint is private
    // unless CIDRs are given; control-plane logs go to CloudWatch.
    this.cluster = new eks.Cluster(this, 'Cluster', {
      version: eks.KubernetesVersion.V1_35,
      vpc: this.vpc,
      vpcSubnets: [{ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }],
      endpointAccess: settings.eksPublicAccessCidrs.length > 0 ? eks.EndpointAccess.PUBLIC_AND_PRIVATE.onlyFrom(...settings.eksPublicAccessCidrs) : eks.EndpointAccess.PRIVATE,
      secretsEncryptionKey: storageKey,
      clusterLogging: [eks.ClusterLoggingTypes.API, eks.ClusterLoggingTypes.AUDIT, eks.ClusterLoggingTypes.AUTHENTICATOR, eks.ClusterLoggingTypes.CONTROLLER_MANAGER, eks.ClusterLoggingTypes.SCHEDULER],
      defaultCapacityType: eks.DefaultCapacityType.NODEGROUP,
      defaultCapacity: 0,
    });
    // The shared fleet's nodes: one group across the three zones (the pods' topology spread needs them).
    this.cluster.addNodegroupCapacity('Shared', {
      instanceTypes: [new ec2.InstanceType('m7i.large')],
      minSize: 3,
      desiredSize: 3,
      maxSize: 12,
      subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      labels: { 'tramline.dev/pool': 'shared' },
    });
    // A dedicated customer's nodes: labelled and tainted with its tenant (deploy/k8s/overlays/dedicated).
    for (const tenant of settings.dedicatedTenants) {
      this.cluster.addNodegroupCapacity(`Tenant-${tenant}`, {
        instanceTypes: [new ec2.InstanceType('m7i.large')],
        minSize: 3,
        desiredSize: 3,
        maxSize: 6,
        subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        labels: { 'tramline.dev/tenant': tenant },
        taints: [{ key: 'tramline.dev/tenant', value: tenant, effect: eks.TaintEffect.NO_SCHEDULE }],
      });
    }
    // NetworkPolicies (deploy/k8s/base/network-policies.yaml) are enforced by the VPC CNI's policy agent.
    new eks.Addon(this, 'VpcCni', { cluster: this.cluster, addonName: 'vpc-cni', configurationValues: { enableNetworkPolicy: 'true' } });
    new eks.Addon(this, 'PodIdentityAgent', { cluster: this.cluster, addonName: 'eks-pod-identity-agent' });

    // --- PostgreSQL: Multi-AZ, encrypted, TLS only, automated backups with point-in-time recovery,
    // deletion protection; reachable on 5432 from the cluster's nodes only.
    const dbSg = new ec2.SecurityGroup(this, 'DatabaseSg', { vpc: this.vpc, allowAllOutbound: false, description: 'PostgreSQL: 5432 from the EKS cluster only' });
    dbSg.addIngressRule(this.cluster.clusterSecurityGroup, ec2.Port.tcp(5432), 'PostgreSQL from the cluster');
    const parameters = new rds.ParameterGroup(this, 'DatabaseParameters', {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_15 }),
      parameters: { 'rds.force_ssl': '1', log_min_duration_statement: '1000', idle_in_transaction_session_timeout: '60000' },
    });
    this.database = new rds.DatabaseInstance(this, 'Database', {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_15 }),
      instanceType: ec2.InstanceType.of(ec2.InstanceClass.M7G, ec2.InstanceSize.LARGE),
      vpc: this.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [dbSg],
      multiAz: true,
      publiclyAccessible: false,
      storageEncrypted: true,
      storageEncryptionKey: storageKey,
      storageType: rds.StorageType.GP3,
      allocatedStorage: 100,
      maxAllocatedStorage: 1000,
      databaseName: 'tramline',
      // Named so deploy/k8s/components/external-secrets finds it (JSON: username, password, host, port, dbname).
      credentials: rds.Credentials.fromGeneratedSecret('tramline', { encryptionKey: storageKey, secretName: 'tramline/database' }),
      parameterGroup: parameters,
      backupRetention: Duration.days(14), // automated backups: point-in-time recovery to any second of the last 14 days
      preferredBackupWindow: '02:00-03:00',
      copyTagsToSnapshot: true,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.SNAPSHOT,
      enablePerformanceInsights: true,
      performanceInsightEncryptionKey: storageKey,
      cloudwatchLogsExports: ['postgresql'],
      autoMinorVersionUpgrade: true,
      iamAuthentication: true,
      monitoringInterval: Duration.seconds(60),
    });

    // --- Redis: TLS in transit (required), encrypted at rest, an AUTH token, a replica in another zone.
    const cacheSg = new ec2.SecurityGroup(this, 'CacheSg', { vpc: this.vpc, allowAllOutbound: false, description: 'Redis: 6379 from the EKS cluster only' });
    cacheSg.addIngressRule(this.cluster.clusterSecurityGroup, ec2.Port.tcp(6379), 'Redis from the cluster');
    const cacheSubnets = new elasticache.CfnSubnetGroup(this, 'CacheSubnets', {
      description: 'Tramline Redis: isolated data subnets',
      subnetIds: this.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }).subnetIds,
    });
    const cacheAuth = new secretsmanager.Secret(this, 'CacheAuthToken', {
      secretName: 'tramline/redis-auth',
      description: 'Tramline Redis AUTH token (REDIS_URL is rediss://:<token>@<primary endpoint>:6379)',
      encryptionKey: storageKey,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    const cache = new elasticache.CfnReplicationGroup(this, 'Cache', {
      replicationGroupDescription: 'Tramline shared rate limits and caches',
      engine: 'redis',
      engineVersion: '7.1',
      cacheNodeType: 'cache.m7g.large',
      numNodeGroups: 1,
      replicasPerNodeGroup: 1,
      multiAzEnabled: true,
      automaticFailoverEnabled: true,
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      atRestEncryptionEnabled: true,
      kmsKeyId: storageKey.keyArn,
      authToken: cacheAuth.secretValue.unsafeUnwrap(), // a dynamic reference resolved by CloudFormation, never in the template
      cacheSubnetGroupName: cacheSubnets.ref,
      securityGroupIds: [cacheSg.securityGroupId],
      snapshotRetentionLimit: 3,
      autoMinorVersionUpgrade: true,
    });
    cache.applyRemovalPolicy(RemovalPolicy.SNAPSHOT);

    // --- Backups (the scheduler's TRAMLINE_BACKUP_DEST=s3://<bucket>/tramline): versioned, SSE-KMS,
    // private, TLS only, old versions expire, cold ones move to cheaper storage.
    this.backups = new s3.Bucket(this, 'Backups', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: storageKey,
      bucketKeyEnabled: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'tiering',
          transitions: [
            { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) },
            { storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(90) },
          ],
          noncurrentVersionExpiration: Duration.days(90),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
    });

    // --- Static assets of the dashboard and portal (dist/web) behind CloudFront; the bucket is private
    // and read by CloudFront alone (origin access control). With apiOriginDomain set, the API paths go
    // to the region's ingress over HTTPS, so one host name serves both.
    const assets = new s3.Bucket(this, 'WebAssets', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const api = settings.apiOriginDomain ? new origins.HttpOrigin(settings.apiOriginDomain, { protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY, originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2] }) : undefined;
    const apiBehavior: cloudfront.BehaviorOptions | undefined = api && {
      origin: api,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
    };
    const cdn = new cloudfront.Distribution(this, 'Cdn', {
      comment: `Tramline web assets (${region})`,
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(assets),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        compress: true,
      },
      additionalBehaviors: apiBehavior ? { '/v1/*': apiBehavior, '/portal/*': apiBehavior, '/.well-known/*': apiBehavior } : {},
      // With a custom domain, add its ACM certificate (us-east-1) and minimumProtocolVersion TLS_V1_2_2021.
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
    });

    // --- Least privilege, one role per Kubernetes ServiceAccount (EKS Pod Identity), no wildcard action:
    //  api: wrap and unwrap tenant data keys (KMS Encrypt, Decrypt: src/domain/secrets/kms-key-wrapper.ts, TRAMLINE_KMS_KEYS =
    //  the TenantKeyArn output); worker: unwrap only (opens endpoint secrets to sign; its start checks Decrypt only);
    //  scheduler: write, list, read and prune backups (and the bucket's key for SSE-KMS). The
    //  migration Job has no AWS permission at all.
    const roleFor = (role: Role, statements: iam.PolicyStatement[]): iam.Role => {
      const r = new iam.Role(this, `${role[0]!.toUpperCase()}${role.slice(1)}Role`, {
        description: `Tramline ${role} pods (ServiceAccount tramline-${role})`,
        assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com').withSessionTags(),
        maxSessionDuration: Duration.hours(1),
      });
      new iam.Policy(this, `${role[0]!.toUpperCase()}${role.slice(1)}Policy`, { roles: [r], statements });
      for (const namespace of settings.namespaces) {
        new eks.CfnPodIdentityAssociation(this, `${role}-${namespace}-identity`, {
          clusterName: this.cluster.clusterName,
          namespace,
          serviceAccount: `tramline-${role}`,
          roleArn: r.roleArn,
        });
      }
      return r;
    };
    // The tenant key serves tenant data keys only: Tramline binds each wrap to `tenant-key:<tenant>` through the
    // encryption context (src/domain/secrets/kms-key-wrapper.ts), so a call with any other context is refused.
    const tenantKeyContext = { StringLike: { 'kms:EncryptionContext:tramline:context': 'tenant-key:*' } };
    this.roles = {
      api: roleFor('api', [
        new iam.PolicyStatement({ sid: 'WrapTenantDataKeys', actions: ['kms:Encrypt', 'kms:Decrypt'], resources: [this.tenantKeys.keyArn], conditions: tenantKeyContext }),
      ]),
      worker: roleFor('worker', [
        new iam.PolicyStatement({ sid: 'UnwrapTenantDataKeys', actions: ['kms:Decrypt'], resources: [this.tenantKeys.keyArn], conditions: tenantKeyContext }),
      ]),
      scheduler: roleFor('scheduler', [
        new iam.PolicyStatement({ sid: 'ListBackups', actions: ['s3:ListBucket'], resources: [this.backups.bucketArn] }),
        new iam.PolicyStatement({ sid: 'WriteReadPruneBackups', actions: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:AbortMultipartUpload'], resources: [this.backups.arnForObjects('tramline/*')] }),
        new iam.PolicyStatement({ sid: 'BackupBucketKey', actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [storageKey.keyArn] }),
      ]),
    };

    // --- Continuous deployment: GitHub Actions (OIDC, no stored AWS keys) may deploy rc/* branches and
    // v* tags, and only inside the Tramline namespaces.
    const deployRoleName = 'tramline-ci-deploy';
    if (props.primary) {
      const github = new iam.OidcProviderNative(this, 'GitHubOidc', { url: 'https://token.actions.githubusercontent.com', clientIds: ['sts.amazonaws.com'] });
      const deployRole = new iam.Role(this, 'DeployRole', {
        roleName: deployRoleName,
        description: 'Tramline CI/CD: kubectl apply in the Tramline namespaces (rc/* to staging, v* tags to production)',
        maxSessionDuration: Duration.hours(1),
        assumedBy: new iam.FederatedPrincipal(
          github.oidcProviderArn,
          {
            StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' },
            StringLike: { 'token.actions.githubusercontent.com:sub': [`repo:${settings.githubRepository}:ref:refs/heads/rc/*`, `repo:${settings.githubRepository}:ref:refs/tags/v*`] },
          },
          'sts:AssumeRoleWithWebIdentity',
        ),
      });
      new iam.Policy(this, 'DeployPolicy', {
        roles: [deployRole],
        statements: [new iam.PolicyStatement({ sid: 'FindTheClusters', actions: ['eks:DescribeCluster'], resources: [`arn:${this.partition}:eks:*:${this.account}:cluster/*`] })],
      });
    }
    this.cluster.grantAccess('CiDeploy', `arn:${this.partition}:iam::${this.account}:role/${deployRoleName}`, [
      eks.AccessPolicy.fromAccessPolicyName('AmazonEKSEditPolicy', { accessScopeType: eks.AccessScopeType.NAMESPACE, namespaces: settings.namespaces }),
    ]);

    new CfnOutput(this, 'ClusterName', { value: this.cluster.clusterName });
    new CfnOutput(this, 'DatabaseEndpoint', { value: this.database.dbInstanceEndpointAddress });
    new CfnOutput(this, 'DatabaseSecretArn', { value: this.database.secret!.secretArn });
    new CfnOutput(this, 'CacheEndpoint', { value: cache.attrPrimaryEndPointAddress });
    new CfnOutput(this, 'CacheAuthTokenSecretArn', { value: cacheAuth.secretArn });
    new CfnOutput(this, 'BackupDestination', { value: `s3://${this.backups.bucketName}/tramline` });
    new CfnOutput(this, 'TenantKeyArn', { value: this.tenantKeys.keyArn });
    new CfnOutput(this, 'WebAssetsBucket', { value: assets.bucketName });
    new CfnOutput(this, 'CdnDomain', { value: cdn.distributionDomainName });
  }

  /** A customer-managed key with yearly rotation, kept when the stack goes, and a key policy without kms:*. */
  private key(id: string, description: string, extra: iam.PolicyStatement[]): kms.Key {
    const root = new iam.AccountRootPrincipal();
    const policy = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'KeyAdministration',
          principals: [root],
          actions: [
            'kms:Create*', 'kms:Describe*', 'kms:Enable*', 'kms:List*', 'kms:Put*', 'kms:Update*', 'kms:Revoke*', 'kms:Disable*', 'kms:Get*', 'kms:Delete*',
            'kms:TagResource', 'kms:UntagResource', 'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion', 'kms:RotateKeyOnDemand',
          ],
          resources: ['*'],
        }),
        // IAM policies in this account (the roles above) decide who uses the key.
        new iam.PolicyStatement({
          sid: 'UseThroughIamPolicies',
          principals: [root],
          actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'],
          resources: ['*'],
        }),
        ...extra,
      ],
    });
    return new kms.Key(this, id, { description, enableKeyRotation: true, rotationPeriod: Duration.days(365), policy, removalPolicy: RemovalPolicy.RETAIN, pendingWindow: Duration.days(30) });
  }
}

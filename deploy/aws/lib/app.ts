import { type App, Tags } from 'aws-cdk-lib';
import { RegionStack } from './region-stack.ts';
import { readSettings } from './settings.ts';

/** Every region is a whole, independent Tramline: its own network, database, cache, cluster and keys. */
export function buildApp(app: App): RegionStack[] {
  const settings = readSettings(app);
  const regions = [settings.primaryRegion, settings.secondaryRegion].filter(Boolean);
  const stacks = regions.map(
    (region) =>
      new RegionStack(app, `Tramline-${region}`, {
        // The account stays agnostic (synth offline, deploy anywhere); the region is concrete so that
        // the VPC spans the three zones listed in the context.
        env: { region },
        settings,
        primary: region === settings.primaryRegion,
        description: `Tramline event gateway, region ${region}${region === settings.primaryRegion ? ' (primary)' : ''}`,
        terminationProtection: true,
      }),
  );
  Tags.of(app).add('project', 'tramline');
  return stacks;
}

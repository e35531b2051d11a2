#!/usr/bin/env node
// `cdk synth` entry: one RegionStack per region (the primary, and the secondary when the context names one).
//   npx cdk synth --no-notices                                     (offline; environment-agnostic account)
//   npx cdk synth --no-notices -c tramline:secondaryRegion=us-east-1
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/app.ts';

buildApp(new App());

#!/usr/bin/env node
// The `emr` command: runs the TypeScript CLI through tsx's loader.
import { register } from 'tsx/esm/api';

register();
await import('../app/cli/main.ts');

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HandlerFunction } from '../../lib/handler-function.js';
import type { VppStack } from '../../lib/vpp-stack.js';
import { bundleDir as bundleDirOf, functionResource, handlerFunctions, synthVpp, type Synthesized } from './synth.js';

describe('given the stack, when synthesized with bundling (as `cdk synth` does)', () => {
  let synth: Synthesized;
  let stack: VppStack;
  let template: Template;
  let handlers: [string, HandlerFunction][];
  const resourceOf = (fn: HandlerFunction) => functionResource(synth, fn);
  const bundleDir = (fn: HandlerFunction) => bundleDirOf(synth, fn);

  beforeAll(() => {
    // cdk-nag runs in this synth: any finding nobody acknowledged makes it throw.
    synth = synthVpp({}, { bundle: true });
    ({ stack, template } = synth);
    handlers = handlerFunctions(stack);
  }, 300_000); // bundling all 11 functions: 57 s alone on 2 cores, past the 60 s default beside other files

  it('then every project Lambda runs Node.js 24 on arm64 from its ESM bundle', () => {
    // CDK's own Node.js custom resources run nodejs24.x too
    const lambdas = template.findResources('AWS::Lambda::Function', { Properties: { Runtime: 'nodejs24.x' } });
    expect(Object.keys(lambdas).length).toBeGreaterThanOrEqual(handlers.length);
    for (const [name, fn] of handlers) {
      expect(resourceOf(fn).Properties, name).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
      });
    }
  });

  it('then each bundle is minified ESM with a source map and a real require for CommonJS dependencies', () => {
    for (const [name, fn] of handlers) {
      const dir = bundleDir(fn);
      const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
      expect(code.startsWith("import { createRequire } from 'node:module';"), name).toBe(true);
      expect(code.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map'), name).toBe(true);
      expect(existsSync(join(dir, 'index.mjs.map')), name).toBe(true);
      expect(code.length / code.split('\n').length, `${name}: characters per line`).toBeGreaterThan(1000);
    }
  });

  it('then each bundle loads on plain Node as ESM and exports the handler', () => {
    const bundles = handlers.map(([, fn]) => pathToFileURL(join(bundleDir(fn), 'index.mjs')).href);
    const probe = 'for (const b of process.argv.slice(1)) console.log(typeof (await import(b)).handler);';
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe, ...bundles], { encoding: 'utf8' });
    expect(out.trim().split('\n')).toEqual(handlers.map(() => 'function'));
  });

  it("then each Lambda role is the function's own, with no AWS managed policy", () => {
    for (const [name, fn] of handlers) {
      expect(resourceOf(fn).Properties.Role, name).toEqual(stack.resolve(fn.role.roleArn));
      const role = (template.toJSON().Resources as Record<string, { Properties: object }>)[
        (stack.resolve(fn.role.roleName) as { Ref: string }).Ref
      ]!;
      expect(role.Properties, name).not.toHaveProperty('ManagedPolicyArns');
    }
  });
});

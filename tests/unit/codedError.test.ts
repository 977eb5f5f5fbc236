import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplianceError } from '../../src/boot/ApplianceError.ts';
import { BootError } from '../../src/boot/BootError.ts';
import { ElfError } from '../../src/boot/ElfImage.ts';
import { BackendError } from '../../src/disk/BackendError.ts';
import { SliceError } from '../../src/disk/ByteSlice.ts';
import { DiskLockError } from '../../src/disk/DiskLock.ts';
import { Ext2Error } from '../../src/disk/Ext2Error.ts';
import { PartitionError } from '../../src/disk/PartitionError.ts';
import { VhdError } from '../../src/disk/VhdError.ts';
import { CodedError } from '../../src/errors/CodedError.ts';
import { HypervisorError } from '../../src/hypervisor/HypervisorError.ts';
import { TranslationError } from '../../src/inspect/pageWalk.ts';
import { VirtioError } from '../../src/machine/virtio/VirtioError.ts';
import { Base64urlError } from '../../src/scenario/base64url.ts';
import { ScriptError } from '../../src/scenario/consoleScript.ts';
import { InflateError } from '../../src/compress/inflateBounded.ts';
import { ScenarioError } from '../../src/scenario/ScenarioError.ts';
import { StoreError } from '../../src/store/StoreError.ts';
import { ScenarioRunError } from '../../src/ui/scenario/ScenarioRunError.ts';

describe('coded errors', () => {
  // [error, its name, its code, its message]: what each class said before it had a base.
  const cases: [CodedError, string, string, string][] = [
    [new ApplianceError('bad-manifest', 'm', 'appliance.json'), 'ApplianceError', 'bad-manifest', 'm'],
    [new BootError('ram-too-small', 'm'), 'BootError', 'ram-too-small', 'm'],
    [new ElfError('not-elf', 'm'), 'ElfError', 'not-elf', 'm'],
    [new BackendError('io', 'm', 7), 'BackendError', 'io', 'm'],
    [new SliceError('m', 7), 'SliceError', 'out-of-range', 'm'],
    [new DiskLockError('in-use', 'm', '/x.vhd', 42), 'DiskLockError', 'in-use', 'm'],
    [new Ext2Error('bad-magic', 'm'), 'Ext2Error', 'bad-magic', 'm'],
    [new PartitionError('no-signature', 'm'), 'PartitionError', 'no-signature', 'm'],
    [new VhdError('bad-cookie', 'm', 0), 'VhdError', 'bad-cookie', 'm'],
    [new HypervisorError('not-found', 'm'), 'HypervisorError', 'not-found', 'm'],
    [new TranslationError('bad-satp-mode', 'm'), 'TranslationError', 'bad-satp-mode', 'm'],
    [new VirtioError('bad-ring', 'm', 0x1000), 'VirtioError', 'bad-ring', 'm'],
    [new Base64urlError('m', 3), 'Base64urlError', 'bad-base64', 'm'],
    [new ScriptError('script[0]', 'm'), 'ScriptError', 'bad-script', 'script[0]: m'],
    [new InflateError({ kind: 'corrupt', message: 'm' }), 'InflateError', 'corrupt', 'm'],
    [new ScenarioError('bad-json', 'm'), 'ScenarioError', 'bad-json', 'm'],
    [new StoreError('quota-exceeded', 'm'), 'StoreError', 'quota-exceeded', 'm'],
    [new ScenarioRunError('no-appliance', 'm'), 'ScenarioRunError', 'no-appliance', 'm'],
  ];

  it('all share one base, so the CLI needs one instanceof for "bad input"', () => {
    for (const [e, name] of cases) {
      assert.ok(e instanceof CodedError, `${name} is a CodedError`);
      assert.ok(e instanceof Error, `${name} is an Error`);
    }
  });

  it('keep their names, codes, messages and extra fields', () => {
    for (const [e, name, code, message] of cases) {
      assert.equal(e.name, name);
      assert.equal(e.code, code, name);
      assert.equal(e.message, message, name);
      assert.match(String(e), new RegExp(`^${name}: `));
    }
    assert.equal(new VhdError('bad-cookie', 'm', 512).offset, 512);
    assert.deepEqual(new ScenarioError('invalid', 'm', ['a: b']).problems, ['a: b']);
    assert.equal(new DiskLockError('in-use', 'm', '/x.vhd', 42).pid, 42);
    const cause = new Error('quota');
    assert.equal(new StoreError('quota-exceeded', 'm', { cause }).cause, cause);
  });
});

import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { findFuseMount, isAvailable, LocalFileSystem, mount, unmount } from '../src/index.js';
import { forceUnmount, isAlive, sh, startMountChild, tempDir, waitFor } from './helpers.js';

const skip = isAvailable() ? false : 'FUSE is not available here (see checkFuse())';

describe('when the owner of a mount dies', { skip }, () => {
  test('kill -9 of the parent: the helper unmounts and exits', async () => {
    const base = await tempDir('wh-fuse-');
    const mnt = join(base, 'mnt');
    await fsp.mkdir(join(base, 'src'));
    await fsp.writeFile(join(base, 'src/a'), 'a');
    const c = await startMountChild(join(base, 'src'), mnt, {});
    try {
      assert.equal((await sh(`cat '${mnt}/a'`)).stdout, 'a');
      process.kill(c.pid, 'SIGKILL');
      assert.ok(await waitFor(() => findFuseMount(mnt) === undefined, 5000), 'mount still there');
      assert.ok(await waitFor(() => !isAlive(c.helperPid), 5000), 'helper still running');
    } finally {
      c.child.kill('SIGKILL');
      if (isAlive(c.helperPid)) process.kill(c.helperPid, 'SIGKILL');
      await forceUnmount(mnt);
      await fsp.rm(base, { recursive: true, force: true });
    }
  });

  test('a stale mount (helper killed, no auto_unmount) is detected and cleared by the next mount', async () => {
    const base = await tempDir('wh-fuse-');
    const mnt = join(base, 'mnt');
    await fsp.mkdir(join(base, 'src'));
    await fsp.writeFile(join(base, 'src/a'), 'a');
    const c = await startMountChild(join(base, 'src'), mnt, { autoUnmount: false });
    try {
      // Freeze the owner so it cannot clean up, then kill both: what a crash leaves behind.
      process.kill(c.pid, 'SIGSTOP');
      process.kill(c.helperPid, 'SIGKILL');
      await waitFor(() => !isAlive(c.helperPid), 3000);
      process.kill(c.pid, 'SIGKILL');
      const stale = await sh(`stat '${mnt}'`);
      assert.match(stale.stderr, /Transport endpoint is not connected/);
      assert.ok(findFuseMount(mnt));
      const m = await mount(new LocalFileSystem(join(base, 'src')), mnt);
      try {
        assert.equal((await sh(`cat '${mnt}/a'`)).stdout, 'a');
      } finally {
        await m.unmount();
      }
    } finally {
      c.child.kill('SIGKILL');
      await forceUnmount(mnt);
      await fsp.rm(base, { recursive: true, force: true });
    }
    assert.equal(findFuseMount(mnt), undefined);
  });

  test('unmount(mountpoint) from another process ends the owner’s mount, which reports it', async () => {
    const base = await tempDir('wh-fuse-');
    const mnt = join(base, 'mnt');
    await fsp.mkdir(join(base, 'src'));
    const c = await startMountChild(join(base, 'src'), mnt, {});
    try {
      assert.ok(findFuseMount(mnt));
      await unmount(mnt);
      assert.equal(findFuseMount(mnt), undefined);
      assert.ok(await waitFor(() => c.lines.includes('unmounted'), 5000), 'owner did not notice');
      assert.ok(await waitFor(() => !isAlive(c.helperPid), 3000));
      await unmount(mnt); // nothing mounted: a no-op
    } finally {
      c.child.kill('SIGKILL');
      if (isAlive(c.helperPid)) process.kill(c.helperPid, 'SIGKILL');
      await forceUnmount(mnt);
      await fsp.rm(base, { recursive: true, force: true });
    }
  });
});

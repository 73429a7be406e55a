import { exec } from 'node:child_process'; import { promisify } from 'node:util'; const sh = promisify(exec);
import { LocalFileSystem, mount } from '@wormhole/fuse';
const m = await mount(new LocalFileSystem('/tmp/fz/src'), '/tmp/fz/mnt', {});
try {
  console.log(m.mode, m.pid);
  console.log((await sh('ls -la /tmp/fz/mnt; cat /tmp/fz/mnt/a.txt; readlink /tmp/fz/mnt/link; stat /tmp/fz/mnt/a.txt; du -s /tmp/fz/mnt; mount | grep fz; touch /tmp/fz/mnt/x 2>&1 || true')).stdout);
} finally {
  await m.unmount();
  console.log('unmounted', m.mounted);
}

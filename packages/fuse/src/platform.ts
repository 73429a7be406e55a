// The platform boundary: everything that differs between Linux, macOS and Windows about
// *whether FUSE can work here* lives in this module. probePlatform() gathers facts (I/O);
// evaluatePlatform() turns facts into a report (pure, unit-tested for every platform).
//
// What each platform needs:
// - Linux: the fuse kernel module (/dev/fuse, readable+writable by the user), fusermount
//   (unmount, auto_unmount; from fuse3 or fuse), and one binding: the project's libfuse3 binding
//   (libfuse.so.3, built from native/ where libfuse3-dev was present) or fuse-native (libfuse.so.2).
// - macOS: macFUSE (kext or FSKit backend, /Library/Filesystems/macfuse.fs) or FUSE-T
//   (kext-less, NFS-based, /usr/local/lib/libfuse-t.dylib); fuse-native's prebuilt links libfuse.2.
// - Windows: WinFsp (with its FUSE compatibility layer), installed under
//   C:\Program Files (x86)\WinFsp; fuse-native has no Windows build, so a WinFsp-based binding is
//   the piece still to be chosen there.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { loadFuse3 } from './fuse3-addon.js';
import { loadFuseNative } from './native.js';

/** Facts about the machine, gathered by {@link probePlatform}. */
export interface PlatformProbe {
  platform: NodeJS.Platform;
  /** Linux: /etc/os-release ID and ID_LIKE. */
  distroIds: string[];
  devFuse: 'missing' | 'ok' | 'no-access';
  fusermount: boolean;
  fusermount3: boolean;
  /** fuse-native (and so libfuse) loaded, or the load error. */
  nativeLoaded: boolean;
  nativeError?: string;
  /** Linux: the project's libfuse3 binding loaded, or the load error. */
  fuse3Loaded: boolean;
  fuse3Error?: string;
  macfuse: boolean;
  fuseT: boolean;
  winfsp: boolean;
}

/** One line of the diagnostic report. */
export interface FuseCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do when not ok (e.g. the package to install). */
  fix?: string;
}

/** `wormhole doctor`'s FUSE section. */
export interface FuseReport {
  platform: NodeJS.Platform;
  /** True when a mount can be attempted. */
  available: boolean;
  checks: FuseCheck[];
}

function onPath(name: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, name))) return true;
  }
  return false;
}

/** Gathers the facts for this machine. Loads the bindings (once). */
export function probePlatform(): PlatformProbe {
  const platform = process.platform;
  let distroIds: string[] = [];
  let devFuse: PlatformProbe['devFuse'] = 'missing';
  if (platform === 'linux') {
    try {
      const text = readFileSync('/etc/os-release', 'utf8');
      const get = (k: string) => text.match(new RegExp(`^${k}=(.*)$`, 'm'))?.[1];
      distroIds = [get('ID'), get('ID_LIKE')]
        .filter((v): v is string => typeof v === 'string')
        .flatMap((v) => v.replaceAll('"', '').split(/\s+/));
    } catch {}
    if (existsSync('/dev/fuse')) {
      try {
        accessSync('/dev/fuse', constants.R_OK | constants.W_OK);
        devFuse = 'ok';
      } catch {
        devFuse = 'no-access';
      }
    }
  }
  const loaded = loadFuseNative();
  const probe: PlatformProbe = {
    platform,
    distroIds,
    devFuse,
    fusermount: platform === 'linux' && onPath('fusermount'),
    fusermount3: platform === 'linux' && onPath('fusermount3'),
    nativeLoaded: 'fuse' in loaded,
    fuse3Loaded: false,
    macfuse: platform === 'darwin' && existsSync('/Library/Filesystems/macfuse.fs'),
    fuseT:
      platform === 'darwin' &&
      (existsSync('/usr/local/lib/libfuse-t.dylib') || existsSync('/Library/Application Support/fuse-t')),
    winfsp:
      platform === 'win32' &&
      (existsSync('C:\\Program Files (x86)\\WinFsp') || existsSync('C:\\Program Files\\WinFsp')),
  };
  if ('error' in loaded) probe.nativeError = String((loaded.error as Error)?.message ?? loaded.error);
  if (platform === 'linux') {
    const f3 = loadFuse3();
    probe.fuse3Loaded = 'addon' in f3;
    if ('error' in f3) probe.fuse3Error = String((f3.error as Error)?.message ?? f3.error);
  }
  return probe;
}

/** Install command for the Linux FUSE runtime on the given distribution. */
export function linuxInstallHint(distroIds: string[]): string {
  const has = (id: string) => distroIds.includes(id);
  if (has('debian') || has('ubuntu')) return 'apt-get install libfuse2 fuse3';
  if (has('fedora') || has('rhel') || has('centos')) return 'dnf install fuse fuse-libs';
  if (has('arch')) return 'pacman -S fuse2 fuse3';
  if (has('opensuse') || has('suse')) return 'zypper install fuse libfuse2';
  if (has('alpine')) return 'apk add fuse fuse3';
  return 'install libfuse 2 (libfuse.so.2) and fusermount from your distribution (Debian/Ubuntu: apt-get install libfuse2 fuse3; Fedora: dnf install fuse fuse-libs; Arch: pacman -S fuse2 fuse3)';
}

/** Turns facts into the report. Pure. */
export function evaluatePlatform(p: PlatformProbe): FuseReport {
  const checks: FuseCheck[] = [];
  if (p.platform === 'linux') {
    const install = linuxInstallHint(p.distroIds);
    checks.push({
      name: '/dev/fuse',
      ok: p.devFuse === 'ok',
      detail:
        p.devFuse === 'ok'
          ? 'present and usable'
          : p.devFuse === 'missing'
            ? 'missing (fuse kernel module not loaded)'
            : 'present but not readable/writable by this user',
      ...(p.devFuse === 'missing'
        ? { fix: 'modprobe fuse (in a container: run with --device /dev/fuse --cap-add SYS_ADMIN)' }
        : p.devFuse === 'no-access'
          ? { fix: 'chmod 0666 /dev/fuse, or add the user to the group owning /dev/fuse' }
          : {}),
    });
    const fm = p.fusermount || p.fusermount3;
    checks.push({
      name: 'fusermount',
      ok: fm,
      detail: fm
        ? p.fusermount
          ? 'fusermount on PATH'
          : 'fusermount3 on PATH'
        : 'neither fusermount nor fusermount3 on PATH',
      ...(fm ? {} : { fix: install }),
    });
    // One binding is enough; the other is then informational.
    const either = p.fuse3Loaded || p.nativeLoaded;
    checks.push({
      name: 'libfuse3 binding',
      ok: either,
      detail: p.fuse3Loaded
        ? 'loaded (serves mounts: 1 MiB reads, readdirplus)'
        : `not loaded: ${p.fuse3Error ?? 'unknown error'}${p.nativeLoaded ? '; fuse-native serves mounts instead' : ''}`,
      ...(p.fuse3Loaded
        ? {}
        : /libfuse3?\.so/.test(p.fuse3Error ?? '')
          ? { fix: install }
          : {
              fix: 'apt-get install libfuse3-dev pkg-config gcc, then rebuild (node packages/fuse/native/build.mjs)',
            }),
    });
    checks.push({
      name: 'libfuse.so.2 / fuse-native',
      ok: either,
      detail: p.nativeLoaded
        ? `fuse-native loaded${p.fuse3Loaded ? ' (fallback)' : ''}`
        : `fuse-native did not load: ${p.nativeError ?? 'unknown error'}${p.fuse3Loaded ? ' (not needed)' : ''}`,
      ...(either
        ? {}
        : /libfuse/.test(p.nativeError ?? '')
          ? { fix: install }
          : { fix: 'reinstall wormhole (the optional dependency fuse-native is missing)' }),
    });
  } else if (p.platform === 'darwin') {
    const any = p.macfuse || p.fuseT;
    checks.push({
      name: 'macFUSE or FUSE-T',
      ok: any,
      detail: p.macfuse
        ? 'macFUSE installed'
        : p.fuseT
          ? 'FUSE-T installed'
          : 'neither macFUSE nor FUSE-T is installed',
      ...(any
        ? {}
        : {
            fix: 'brew install --cask macfuse (then allow its system extension), or brew install macos-fuse-t/homebrew-cask/fuse-t',
          }),
    });
    checks.push({
      name: 'fuse-native',
      ok: p.nativeLoaded,
      detail: p.nativeLoaded
        ? 'fuse-native loaded'
        : `fuse-native did not load: ${p.nativeError ?? 'unknown error'}`,
      ...(p.nativeLoaded ? {} : { fix: any ? 'reinstall wormhole' : 'install macFUSE or FUSE-T first' }),
    });
  } else if (p.platform === 'win32') {
    checks.push({
      name: 'WinFsp',
      ok: p.winfsp,
      detail: p.winfsp ? 'WinFsp installed' : 'WinFsp is not installed',
      ...(p.winfsp ? {} : { fix: 'winget install WinFsp.WinFsp (or the installer from winfsp.dev)' }),
    });
    checks.push({
      name: 'FUSE binding',
      ok: p.nativeLoaded,
      detail: p.nativeLoaded
        ? 'binding loaded'
        : 'fuse-native has no Windows build; mounting is not supported on Windows yet',
      ...(p.nativeLoaded ? {} : { fix: 'use `wormhole get` to copy files instead of mounting' }),
    });
  } else {
    checks.push({ name: 'platform', ok: false, detail: `FUSE mounts are not supported on ${p.platform}` });
  }
  return { platform: p.platform, available: checks.every((c) => c.ok), checks };
}

/** The FUSE diagnostic for this machine (used by `wormhole doctor`). */
export function checkFuse(): FuseReport {
  return evaluatePlatform(probePlatform());
}

/** Facts deciding whether FUSE passthrough can serve local copies (see {@link evaluatePassthrough}). */
export interface PassthroughProbe {
  platform: NodeJS.Platform;
  /** Kernel release (`uname -r`), e.g. `6.18.44`. */
  release: string;
  uid: number | undefined;
  /** The project's libfuse3 binding loaded (it negotiates passthrough; fuse-native cannot). */
  binding: boolean;
}

/** What {@link evaluatePassthrough} concludes. */
export interface PassthroughReport {
  ok: boolean;
  detail: string;
  fix?: string;
}

/**
 * Whether mounts here can hand whole-file copies to the kernel (FUSE passthrough): Linux >= 6.9
 * (CONFIG_FUSE_PASSTHROUGH, on in distribution kernels), root (the backing-file ioctl needs
 * CAP_SYS_ADMIN), the libfuse3 binding. Without it copies are still made and read by the mount.
 */
export function evaluatePassthrough(p: PassthroughProbe): PassthroughReport {
  if (p.platform !== 'linux') return { ok: false, detail: `FUSE passthrough is Linux-only (${p.platform})` };
  const [major = 0, minor = 0] = p.release.split(/[.-]/).map(Number);
  if (!(major * 1000 + minor >= 6009))
    return {
      ok: false,
      detail: `kernel ${p.release}: FUSE passthrough needs Linux 6.9 or later`,
      fix: 'a newer kernel',
    };
  if (!p.binding)
    return {
      ok: false,
      detail: 'the libfuse3 binding is not built: fuse-native cannot use FUSE passthrough',
      fix: 'apt-get install libfuse3-dev, then pnpm install',
    };
  if (p.uid !== 0)
    return {
      ok: false,
      detail:
        'not root: the kernel lets only CAP_SYS_ADMIN register backing files; re-reads of copied files go through the mount',
    };
  return {
    ok: true,
    detail: `kernel ${p.release}, root, libfuse3 binding: re-reads of copied files are served by the kernel`,
  };
}

/** {@link evaluatePassthrough} for this process. */
export function checkPassthrough(): PassthroughReport {
  let release = '';
  try {
    release = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {}
  return evaluatePassthrough({
    platform: process.platform,
    release,
    uid: process.getuid?.(),
    binding: 'addon' in loadFuse3(),
  });
}

/** True when a FUSE mount can be attempted on this machine. */
export function isAvailable(): boolean {
  return checkFuse().available;
}

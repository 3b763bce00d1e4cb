//! Field extraction for the `syscall` source.
//!
//! [`resolve`] turns a field reference (`proc.aname[2]`) into a [`Spec`]
//! once, at compile time; [`extract`] computes its values for one event.
//! Extractors write into the per-event [`Out`] arena and never allocate.

mod container;
mod evt;
mod fd;
mod misc;
mod proc_;

use std::sync::Arc;

use peregrine_event::RawEvent;
use peregrine_state::{State, Thread};

pub use container::{CaptureContainers, ContainerLookup, NoContainers};

use crate::cond::{FieldRef, Transformer};
use crate::value::{Out, ValType};

/// Everything a field may read for one event.
pub struct Ctx<'a> {
    pub ev: &'a RawEvent<'a>,
    /// `evt.num`.
    pub num: u64,
    pub cpu: u16,
    pub state: &'a State,
    pub thread: Option<&'a Thread>,
    pub containers: &'a dyn ContainerLookup,
    pub hostname: &'a str,
    /// Timestamp of the enter half when known (for `evt.latency`).
    pub enter_ts: u64,
}

impl<'a> Ctx<'a> {
    /// The context of `input`, read against `state` as it is after the
    /// event was applied.
    #[inline]
    pub fn new(
        input: &'a crate::engine::EventInput<'a>,
        state: &'a State,
        containers: &'a dyn ContainerLookup,
        hostname: &'a str,
    ) -> Ctx<'a> {
        Ctx {
            ev: input.ev,
            num: input.num,
            cpu: input.cpu,
            state,
            thread: state.thread(input.ev.tid() as i64),
            containers,
            hostname,
            enter_ts: input.enter_ts,
        }
    }
}

/// What a field argument is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FArg {
    None,
    Index(i64),
    Name(Arc<str>),
}

/// A resolved field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub fid: Fid,
    /// The field's name (`proc.name`; `evt.arg` for `evt.arg.X`).
    pub name: &'static str,
    pub class: Class,
    pub arg: FArg,
    /// Type of the extracted value after transformers.
    pub ty: ValType,
    /// Whether the field extracts a list.
    pub list: bool,
    pub transformers: Vec<Transformer>,
}

macro_rules! fields {
    ($( $name:literal => $id:ident : $ty:ident $(, $flag:ident)* ;)*) => {
        /// Every supported field.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Fid { $($id),* }

        /// `(name, id, type, arg kind, list, valueless)` for every field.
        pub(crate) const TABLE: &[Entry] = &[
            $( ($name, Fid::$id, ValType::$ty, argkind!($($flag)*), islist!($($flag)*), valueless!($($flag)*)) ),*
        ];
    };
}

/// `(name, id, type, arg kind, list, valueless)`.
pub(crate) type Entry = (&'static str, Fid, ValType, ArgKind, bool, bool);

macro_rules! argkind {
    () => {
        ArgKind::None
    };
    (none) => {
        ArgKind::None
    };
    (req none) => {
        ArgKind::Required
    };
    (list) => {
        ArgKind::None
    };
    (req) => {
        ArgKind::Required
    };
    (opt) => {
        ArgKind::Optional
    };
    (opt list) => {
        ArgKind::Optional
    };
    (req list) => {
        ArgKind::Required
    };
}
/// `none`: a name Falco keeps that never has a value.
macro_rules! valueless {
    (none) => {
        true
    };
    (req none) => {
        true
    };
    ($($flag:ident)*) => {
        false
    };
}
macro_rules! islist {
    () => {
        false
    };
    (none) => {
        false
    };
    (req none) => {
        false
    };
    (req) => {
        false
    };
    (opt) => {
        false
    };
    (list) => {
        true
    };
    (opt list) => {
        true
    };
    (req list) => {
        true
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    None,
    Required,
    Optional,
}

fields! {
    // evt
    "evt.num" => EvtNum: U64;
    "evt.time" => EvtTime: Str;
    "evt.time.s" => EvtTimeS: Str;
    "evt.time.iso8601" => EvtTimeIso: Str;
    "evt.datetime" => EvtDatetime: Str;
    "evt.datetime.s" => EvtDatetimeS: Str;
    "evt.rawtime" => EvtRawtime: AbsTime;
    "evt.rawtime.s" => EvtRawtimeS: AbsTime;
    "evt.rawtime.ns" => EvtRawtimeNs: AbsTime;
    "evt.reltime" => EvtReltime: RelTime;
    "evt.reltime.s" => EvtReltimeS: RelTime;
    "evt.reltime.ns" => EvtReltimeNs: RelTime;
    "evt.latency" => EvtLatency: RelTime;
    "evt.latency.s" => EvtLatencyS: RelTime;
    "evt.latency.ns" => EvtLatencyNs: RelTime;
    "evt.latency.human" => EvtLatencyHuman: Str;
    "evt.deltatime" => EvtDeltatime: RelTime;
    "evt.deltatime.s" => EvtDeltatimeS: RelTime;
    "evt.deltatime.ns" => EvtDeltatimeNs: RelTime;
    "evt.outputtime" => EvtOutputtime: Str;
    "evt.dir" => EvtDir: Str;
    "evt.type" => EvtType: Str;
    "evt.type.is" => EvtTypeIs: U64, req;
    "syscall.type" => SyscallType: Str;
    "evt.category" => EvtCategory: Str;
    "evt.cpu" => EvtCpu: I64;
    "evt.args" => EvtArgs: Str;
    "evt.arg" => EvtArg: Str, req;
    "evt.rawarg" => EvtRawarg: Str, req;
    "evt.info" => EvtInfo: Str;
    "evt.buffer" => EvtBuffer: Bytes;
    "evt.buflen" => EvtBuflen: U64;
    "evt.res" => EvtRes: Str;
    "evt.rawres" => EvtRawres: I64;
    "evt.failed" => EvtFailed: Bool;
    "evt.is_io" => EvtIsIo: Bool;
    "evt.is_io_read" => EvtIsIoRead: Bool;
    "evt.is_io_write" => EvtIsIoWrite: Bool;
    "evt.io_dir" => EvtIoDir: Str;
    "evt.is_wait" => EvtIsWait: Bool;
    "evt.wait_latency" => EvtWaitLatency: RelTime;
    "evt.is_syslog" => EvtIsSyslog: Bool;
    "evt.count" => EvtCount: U64;
    "evt.count.error" => EvtCountError: U64;
    "evt.count.error.file" => EvtCountErrorFile: U64;
    "evt.count.error.net" => EvtCountErrorNet: U64;
    "evt.count.error.memory" => EvtCountErrorMemory: U64;
    "evt.count.error.other" => EvtCountErrorOther: U64;
    "evt.count.exit" => EvtCountExit: U64;
    "evt.abspath" => EvtAbspath: Str, opt;
    // Filter only: `evt.around[T]=D` compiles to a window on evt.rawtime;
    // displayed, it has no value, as in libsinsp.
    "evt.around" => EvtAround: U64, req, none;
    "evt.is_open_read" => EvtIsOpenRead: Bool;
    "evt.is_open_write" => EvtIsOpenWrite: Bool;
    "evt.is_open_exec" => EvtIsOpenExec: Bool;
    "evt.is_open_create" => EvtIsOpenCreate: Bool;
    "evt.source" => EvtSource: Str;
    "evt.is_async" => EvtIsAsync: Bool;
    "evt.asynctype" => EvtAsynctype: Str;
    "evt.hostname" => EvtHostname: Str;
    "evt.pluginname" => EvtPluginname: Str;
    "evt.plugininfo" => EvtPlugininfo: Str;
    // proc / thread
    "proc.exe" => ProcExe: Str;
    "proc.pexe" => ProcPexe: Str;
    "proc.aexe" => ProcAexe: Str, opt;
    "proc.exepath" => ProcExepath: Str;
    "proc.pexepath" => ProcPexepath: Str;
    "proc.aexepath" => ProcAexepath: Str, opt;
    "proc.name" => ProcName: Str;
    "proc.pname" => ProcPname: Str;
    "proc.aname" => ProcAname: Str, opt;
    "proc.args" => ProcArgs: Str;
    "proc.aargs" => ProcAargs: Str, opt;
    "proc.cmdline" => ProcCmdline: Str;
    "proc.pcmdline" => ProcPcmdline: Str;
    "proc.acmdline" => ProcAcmdline: Str, opt;
    "proc.cmdnargs" => ProcCmdnargs: U64;
    "proc.cmdlenargs" => ProcCmdlenargs: U64;
    "proc.exeline" => ProcExeline: Str;
    "proc.env" => ProcEnv: Str, opt;
    "proc.aenv" => ProcAenv: Str, opt;
    "proc.cwd" => ProcCwd: Str;
    "proc.loginshellid" => ProcLoginshellid: I64;
    "proc.tty" => ProcTty: U64;
    "proc.pid" => ProcPid: I64;
    "proc.ppid" => ProcPpid: I64;
    "proc.apid" => ProcApid: I64, opt;
    "proc.vpid" => ProcVpid: I64;
    "proc.pvpid" => ProcPvpid: I64;
    "proc.sid" => ProcSid: I64;
    "proc.sname" => ProcSname: Str;
    "proc.sid.exe" => ProcSidExe: Str;
    "proc.sid.exepath" => ProcSidExepath: Str;
    "proc.vpgid" => ProcVpgid: I64;
    "proc.vpgid.name" => ProcVpgidName: Str;
    "proc.vpgid.exe" => ProcVpgidExe: Str;
    "proc.vpgid.exepath" => ProcVpgidExepath: Str;
    "proc.pgid" => ProcPgid: I64;
    "proc.pgid.name" => ProcPgidName: Str;
    "proc.pgid.exe" => ProcPgidExe: Str;
    "proc.pgid.exepath" => ProcPgidExepath: Str;
    "proc.duration" => ProcDuration: RelTime;
    "proc.ppid.duration" => ProcPpidDuration: RelTime;
    "proc.pid.ts" => ProcPidTs: RelTime;
    "proc.ppid.ts" => ProcPpidTs: RelTime;
    "proc.is_exe_writable" => ProcIsExeWritable: Bool;
    "proc.is_exe_upper_layer" => ProcIsExeUpperLayer: Bool;
    "proc.is_exe_lower_layer" => ProcIsExeLowerLayer: Bool;
    "proc.is_exe_from_memfd" => ProcIsExeFromMemfd: Bool;
    "proc.is_sid_leader" => ProcIsSidLeader: Bool;
    "proc.is_vpgid_leader" => ProcIsVpgidLeader: Bool;
    "proc.is_pgid_leader" => ProcIsPgidLeader: Bool;
    "proc.exe_ino" => ProcExeIno: I64;
    "proc.exe_ino.ctime" => ProcExeInoCtime: AbsTime;
    "proc.exe_ino.mtime" => ProcExeInoMtime: AbsTime;
    "proc.exe_ino.ctime_duration_proc_start" => ProcExeInoCtimeDurProcStart: AbsTime;
    "proc.exe_ino.ctime_duration_pidns_start" => ProcExeInoCtimeDurPidnsStart: AbsTime;
    "proc.pidns_init_start_ts" => ProcPidnsInitStartTs: U64;
    "thread.cap_permitted" => ThreadCapPermitted: Str;
    "thread.cap_inheritable" => ThreadCapInheritable: Str;
    "thread.cap_effective" => ThreadCapEffective: Str;
    "proc.fdopencount" => ProcFdopencount: U64;
    "proc.fdlimit" => ProcFdlimit: I64;
    "proc.fdusage" => ProcFdusage: Double;
    "proc.vmsize" => ProcVmsize: U64;
    "proc.vmrss" => ProcVmrss: U64;
    "proc.vmswap" => ProcVmswap: U64;
    "thread.pfmajor" => ThreadPfmajor: U64;
    "thread.pfminor" => ThreadPfminor: U64;
    "thread.tid" => ThreadTid: I64;
    "thread.ismain" => ThreadIsmain: Bool;
    "thread.vtid" => ThreadVtid: I64;
    "thread.exectime" => ThreadExectime: RelTime;
    "thread.totexectime" => ThreadTotexectime: RelTime;
    "thread.cgroups" => ThreadCgroups: Str;
    "thread.cgroup" => ThreadCgroup: Str, req;
    "proc.nthreads" => ProcNthreads: U64;
    "proc.nchilds" => ProcNchilds: U64;
    "thread.cpu" => ThreadCpu: Double;
    "thread.cpu.user" => ThreadCpuUser: Double;
    "thread.cpu.system" => ThreadCpuSystem: Double;
    "thread.vmsize" => ThreadVmsize: U64;
    "thread.vmrss" => ThreadVmrss: U64;
    "proc.stdin.type" => ProcStdinType: Str;
    "proc.stdout.type" => ProcStdoutType: Str;
    "proc.stderr.type" => ProcStderrType: Str;
    "proc.stdin.name" => ProcStdinName: Str;
    "proc.stdout.name" => ProcStdoutName: Str;
    "proc.stderr.name" => ProcStderrName: Str;
    // user / group
    "user.uid" => UserUid: U64;
    "user.name" => UserName: Str;
    "user.homedir" => UserHomedir: Str;
    "user.shell" => UserShell: Str;
    "user.loginuid" => UserLoginuid: I64;
    "user.loginname" => UserLoginname: Str;
    "group.gid" => GroupGid: U64;
    "group.name" => GroupName: Str;
    // fd
    "fd.num" => FdNum: I64;
    "fd.type" => FdType: Str;
    "fd.typechar" => FdTypechar: Str;
    "fd.name" => FdName: Str;
    "fd.directory" => FdDirectory: Str;
    "fd.filename" => FdFilename: Str;
    "fd.ip" => FdIp: Ip;
    "fd.cip" => FdCip: Ip;
    "fd.sip" => FdSip: Ip;
    "fd.lip" => FdLip: Ip;
    "fd.rip" => FdRip: Ip;
    "fd.port" => FdPort: Port;
    "fd.cport" => FdCport: Port;
    "fd.sport" => FdSport: Port;
    "fd.lport" => FdLport: Port;
    "fd.rport" => FdRport: Port;
    "fd.l4proto" => FdL4proto: Str;
    "fd.sockfamily" => FdSockfamily: Str;
    "fd.is_server" => FdIsServer: Bool;
    "fd.uid" => FdUid: Str;
    "fd.containername" => FdContainername: Str;
    "fd.containerdirectory" => FdContainerdirectory: Str;
    "fd.proto" => FdProto: Port;
    "fd.cproto" => FdCproto: Str;
    "fd.sproto" => FdSproto: Str;
    "fd.lproto" => FdLproto: Str;
    "fd.rproto" => FdRproto: Str;
    "fd.net" => FdNet: Ip;
    "fd.cnet" => FdCnet: Ip;
    "fd.snet" => FdSnet: Ip;
    "fd.lnet" => FdLnet: Ip;
    "fd.rnet" => FdRnet: Ip;
    "fd.connected" => FdConnected: Bool;
    "fd.name_changed" => FdNameChanged: Bool;
    "fd.cip.name" => FdCipName: Str;
    "fd.sip.name" => FdSipName: Str;
    "fd.lip.name" => FdLipName: Str;
    "fd.rip.name" => FdRipName: Str;
    "fd.dev" => FdDev: I64;
    "fd.dev.major" => FdDevMajor: I64;
    "fd.dev.minor" => FdDevMinor: I64;
    "fd.ino" => FdIno: I64;
    "fd.nameraw" => FdNameraw: Str;
    "fd.types" => FdTypes: Str, opt, list;
    "fd.is_upper_layer" => FdIsUpperLayer: Bool;
    "fd.is_lower_layer" => FdIsLowerLayer: Bool;
    // fdlist (poll)
    "fdlist.nums" => FdlistNums: Str;
    "fdlist.names" => FdlistNames: Str;
    "fdlist.cips" => FdlistCips: Str;
    "fdlist.sips" => FdlistSips: Str;
    "fdlist.cports" => FdlistCports: Str;
    "fdlist.sports" => FdlistSports: Str;
    // fs.path
    "fs.path.name" => FsPathName: Str;
    "fs.path.nameraw" => FsPathNameraw: Str;
    "fs.path.source" => FsPathSource: Str;
    "fs.path.sourceraw" => FsPathSourceraw: Str;
    "fs.path.target" => FsPathTarget: Str;
    "fs.path.targetraw" => FsPathTargetraw: Str;
    // container (Falco's container plugin fields, provided natively)
    "container.id" => ContainerId: Str;
    "container.full_id" => ContainerFullId: Str;
    "container.name" => ContainerName: Str;
    "container.image" => ContainerImage: Str;
    "container.image.id" => ContainerImageId: Str;
    "container.type" => ContainerType: Str;
    "container.privileged" => ContainerPrivileged: Bool;
    "container.mounts" => ContainerMounts: Str;
    "container.mount" => ContainerMount: Str, req;
    "container.mount.source" => ContainerMountSource: Str, req;
    "container.mount.dest" => ContainerMountDest: Str, req;
    "container.mount.mode" => ContainerMountMode: Str, req;
    "container.mount.rdwr" => ContainerMountRdwr: Str, req;
    "container.mount.propagation" => ContainerMountPropagation: Str, req;
    "container.image.repository" => ContainerImageRepository: Str;
    "container.image.tag" => ContainerImageTag: Str;
    "container.image.digest" => ContainerImageDigest: Str;
    "container.healthcheck" => ContainerHealthcheck: Str;
    "container.liveness_probe" => ContainerLivenessProbe: Str;
    "container.readiness_probe" => ContainerReadinessProbe: Str;
    "container.start_ts" => ContainerStartTs: AbsTime;
    "container.duration" => ContainerDuration: RelTime;
    "container.ip" => ContainerIp: Str;
    "container.cni.json" => ContainerCniJson: Str;
    "container.host_pid" => ContainerHostPid: Bool;
    "container.host_network" => ContainerHostNetwork: Bool;
    "container.host_ipc" => ContainerHostIpc: Bool;
    "container.label" => ContainerLabel: Str, req;
    "container.labels" => ContainerLabels: Str;
    "container.cmdline" => ContainerCmdline: Str;
    "proc.is_container_healthcheck" => ProcIsContainerHealthcheck: Bool;
    "proc.is_container_liveness_probe" => ProcIsContainerLivenessProbe: Bool;
    "proc.is_container_readiness_probe" => ProcIsContainerReadinessProbe: Bool;
    "k8s.pod.name" => K8sPodName: Str;
    "k8s.pod.id" => K8sPodId: Str;
    "k8s.pod.uid" => K8sPodUid: Str;
    "k8s.pod.sandbox_id" => K8sPodSandboxId: Str;
    "k8s.pod.full_sandbox_id" => K8sPodFullSandboxId: Str;
    "k8s.pod.label" => K8sPodLabel: Str, req;
    "k8s.pod.labels" => K8sPodLabels: Str;
    "k8s.pod.ip" => K8sPodIp: Str;
    "k8s.pod.cni.json" => K8sPodCniJson: Str;
    "k8s.ns.name" => K8sNsName: Str;
    // Deprecated by the container plugin, which extracts nothing for them.
    "k8s.rc.name" => K8sRcName: Str, none;
    "k8s.rc.id" => K8sRcId: Str, none;
    "k8s.rc.label" => K8sRcLabel: Str, req, none;
    "k8s.rc.labels" => K8sRcLabels: Str, none;
    "k8s.svc.name" => K8sSvcName: Str, none;
    "k8s.svc.id" => K8sSvcId: Str, none;
    "k8s.svc.label" => K8sSvcLabel: Str, req, none;
    "k8s.svc.labels" => K8sSvcLabels: Str, none;
    "k8s.ns.id" => K8sNsId: Str, none;
    "k8s.ns.label" => K8sNsLabel: Str, req, none;
    "k8s.ns.labels" => K8sNsLabels: Str, none;
    "k8s.rs.name" => K8sRsName: Str, none;
    "k8s.rs.id" => K8sRsId: Str, none;
    "k8s.rs.label" => K8sRsLabel: Str, req, none;
    "k8s.rs.labels" => K8sRsLabels: Str, none;
    "k8s.deployment.name" => K8sDeploymentName: Str, none;
    "k8s.deployment.id" => K8sDeploymentId: Str, none;
    "k8s.deployment.label" => K8sDeploymentLabel: Str, req, none;
    "k8s.deployment.labels" => K8sDeploymentLabels: Str, none;
}

/// Which extractor module serves a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// A field that never has a value: names Falco's container plugin keeps
    /// without extracting them (`k8s.rc/svc/rs/deployment.*`), and
    /// `evt.around` outside a filter.
    Valueless,
    Evt,
    Proc,
    Fd,
    Misc,
    Container,
}

fn class_of(name: &str) -> Class {
    if name.starts_with("proc.is_container")
        || name.starts_with("container.")
        || name.starts_with("k8s.")
    {
        Class::Container
    } else if name.starts_with("evt.") || name == "syscall.type" {
        Class::Evt
    } else if name.starts_with("proc.") || name.starts_with("thread.") {
        Class::Proc
    } else if name.starts_with("fd.") {
        Class::Fd
    } else {
        Class::Misc
    }
}

/// Looks a field up by name.
pub(crate) fn lookup(name: &str) -> Option<&'static Entry> {
    TABLE.iter().find(|(n, ..)| *n == name)
}

/// The name of a field id.
pub fn field_name(fid: Fid) -> &'static str {
    TABLE
        .iter()
        .find(|(_, f, ..)| *f == fid)
        .map_or("", |(n, ..)| *n)
}

/// Names of every field this engine extracts.
pub fn supported_fields() -> impl Iterator<Item = &'static str> {
    TABLE.iter().map(|(n, ..)| *n)
}

/// Resolves a field reference, checking its argument.
pub fn resolve(f: &FieldRef) -> Result<Spec, String> {
    // `evt.arg.NAME` and `evt.rawarg.NAME` are the dotted forms of the
    // bracketed argument.
    let (name, arg): (&str, Option<&str>) = if let Some(rest) = f.name.strip_prefix("evt.arg.") {
        ("evt.arg", Some(rest))
    } else if let Some(rest) = f.name.strip_prefix("evt.rawarg.") {
        ("evt.rawarg", Some(rest))
    } else {
        (f.name.as_str(), f.arg.as_deref())
    };
    let &(static_name, fid, ty, kind, list, valueless) = lookup(name)
        .ok_or_else(|| format!("filter_check called with nonexistent field {}", f.name))?;
    let arg = match (kind, arg) {
        (ArgKind::None, Some(a)) => {
            return Err(format!(
                "field '{name}' does not take an argument, got '{a}'"
            ))
        }
        (ArgKind::Required, None) => {
            return Err(format!("field '{name}' requires an argument"));
        }
        (_, None) => FArg::None,
        (_, Some(a)) => match a.parse::<i64>() {
            Ok(i) if takes_index(fid) => FArg::Index(i),
            _ if takes_index(fid) && !takes_name(fid) => {
                return Err(format!(
                    "field '{name}' needs a numeric argument, got '{a}'"
                ))
            }
            _ => FArg::Name(Arc::from(a)),
        },
    };
    let mut ty = ty;
    if fid == Fid::EvtRawarg {
        ty = rawarg_type(&arg);
    }
    for t in &f.transformers {
        ty = match t {
            Transformer::Len => ValType::U64,
            Transformer::B64
            | Transformer::Basename
            | Transformer::Tolower
            | Transformer::Toupper => {
                if matches!(ty, ValType::Str | ValType::Bytes) {
                    ty
                } else {
                    return Err(format!(
                        "transformer '{}' is not supported on field '{}'",
                        t.name(),
                        f.name
                    ));
                }
            }
        };
    }
    Ok(Spec {
        fid,
        name: static_name,
        class: if valueless {
            Class::Valueless
        } else {
            class_of(name)
        },
        arg,
        ty,
        list,
        transformers: f.transformers.clone(),
    })
}

fn takes_index(fid: Fid) -> bool {
    matches!(
        fid,
        Fid::ProcAname
            | Fid::ProcAexe
            | Fid::ProcAexepath
            | Fid::ProcApid
            | Fid::ProcAcmdline
            | Fid::ProcAargs
            | Fid::ProcAenv
            | Fid::ProcArgs
            | Fid::EvtArg
            | Fid::EvtRawarg
            | Fid::EvtAbspath
            | Fid::EvtAround
            | Fid::ContainerMount
            | Fid::ContainerMountSource
            | Fid::ContainerMountDest
            | Fid::ContainerMountMode
            | Fid::ContainerMountRdwr
            | Fid::ContainerMountPropagation
    )
}

fn takes_name(fid: Fid) -> bool {
    !matches!(
        fid,
        Fid::ProcAname
            | Fid::ProcAexe
            | Fid::ProcAexepath
            | Fid::ProcApid
            | Fid::ProcAcmdline
            | Fid::EvtAround
    )
}

/// `evt.rawarg.X` compares as the param's own type; numeric unless known
/// to be a string.
fn rawarg_type(arg: &FArg) -> ValType {
    match arg {
        FArg::Name(n)
            if matches!(
                &**n,
                "name"
                    | "path"
                    | "pathname"
                    | "filename"
                    | "exe"
                    | "comm"
                    | "cwd"
                    | "target"
                    | "linkpath"
                    | "oldpath"
                    | "newpath"
            ) =>
        {
            ValType::Str
        }
        _ => ValType::I64,
    }
}

/// Extracts `spec` for the event in `ctx` into `out`, then applies the
/// transformers. Extracts nothing when the field has no value.
pub fn extract(spec: &Spec, ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let start = out.arena.vals.len();
    let fid = spec.fid;
    let handled = match spec.class {
        Class::Valueless => true,
        Class::Evt => evt::extract(fid, &spec.arg, ctx, out),
        Class::Proc => proc_::extract(fid, &spec.arg, ctx, out),
        Class::Fd => fd::extract(fid, &spec.arg, ctx, out),
        Class::Misc => misc::extract(fid, &spec.arg, ctx, out),
        Class::Container => container::extract(fid, spec.name, &spec.arg, ctx, out),
    };
    debug_assert!(handled, "no extractor for {fid:?}");
    if !spec.transformers.is_empty() {
        apply_transformers(&spec.transformers, start, out);
    }
}

fn apply_transformers(ts: &[Transformer], start: usize, out: &mut Out<'_>) {
    use crate::value::V;
    for t in ts {
        let end = out.arena.vals.len();
        for i in start..end {
            let v = out.arena.vals[i];
            let V::Str { off, len } = v else {
                if *t == Transformer::Len {
                    out.arena.vals[i] = V::U64(0);
                }
                continue;
            };
            let (o, l) = (off as usize, len as usize);
            match t {
                Transformer::Tolower => out.arena.bytes[o..o + l].make_ascii_lowercase(),
                Transformer::Toupper => out.arena.bytes[o..o + l].make_ascii_uppercase(),
                Transformer::Len => out.arena.vals[i] = V::U64(l as u64),
                Transformer::Basename => {
                    let s = &out.arena.bytes[o..o + l];
                    let b = match s.iter().rposition(|&c| c == b'/') {
                        Some(p) => p + 1,
                        None => 0,
                    };
                    out.arena.vals[i] = V::Str {
                        off: off + b as u32,
                        len: len - b as u32,
                    };
                }
                Transformer::B64 => {
                    let newoff = out.arena.bytes.len();
                    let decoded = misc::b64_decode_into(o, l, &mut out.arena.bytes);
                    out.arena.vals[i] = if decoded {
                        V::Str {
                            off: newoff as u32,
                            len: (out.arena.bytes.len() - newoff) as u32,
                        }
                    } else {
                        v
                    };
                }
            }
        }
    }
}

//! Block types of the scap file format (pcapng-style: `u32 type`,
//! `u32 total length`, body, `u32 total length` again).

pub const SHB_BLOCK_TYPE: u32 = 0x0A0D_0D0A;
pub const SHB_MAGIC: u32 = 0x1A2B_3C4D;
/// The magic as read from a section of the other byte order.
pub const SHB_MAGIC_SWAPPED: u32 = 0x4D3C_2B1A;
pub const CURRENT_MAJOR_VERSION: u16 = 1;
pub const CURRENT_MINOR_VERSION: u16 = 2;

pub const MI_BLOCK_TYPE: u32 = 0x201;
pub const MI_BLOCK_TYPE_INT: u32 = 0x8002_ABCD;
pub const PL_BLOCK_TYPE_V1: u32 = 0x202;
pub const PL_BLOCK_TYPE_V1_INT: u32 = 0x8000_ABCD;
pub const PL_BLOCK_TYPE_V2: u32 = 0x207;
pub const PL_BLOCK_TYPE_V2_INT: u32 = 0x8013_ABCD;
pub const PL_BLOCK_TYPE_V3: u32 = 0x209;
pub const PL_BLOCK_TYPE_V3_INT: u32 = 0x8014_ABCD;
pub const PL_BLOCK_TYPE_V4: u32 = 0x210;
pub const PL_BLOCK_TYPE_V5: u32 = 0x211;
pub const PL_BLOCK_TYPE_V6: u32 = 0x212;
pub const PL_BLOCK_TYPE_V7: u32 = 0x213;
pub const PL_BLOCK_TYPE_V8: u32 = 0x214;
pub const PL_BLOCK_TYPE_V9: u32 = 0x215;
pub const FDL_BLOCK_TYPE: u32 = 0x203;
pub const FDL_BLOCK_TYPE_INT: u32 = 0x8001_ABCD;
pub const FDL_BLOCK_TYPE_V2: u32 = 0x218;
pub const EV_BLOCK_TYPE: u32 = 0x204;
pub const EV_BLOCK_TYPE_INT: u32 = 0x8010_ABCD;
pub const EV_BLOCK_TYPE_V2: u32 = 0x216;
pub const EV_BLOCK_TYPE_V2_LARGE: u32 = 0x221;
pub const IL_BLOCK_TYPE: u32 = 0x205;
pub const IL_BLOCK_TYPE_INT: u32 = 0x8011_ABCD;
pub const IL_BLOCK_TYPE_V2: u32 = 0x219;
pub const UL_BLOCK_TYPE: u32 = 0x206;
pub const UL_BLOCK_TYPE_INT: u32 = 0x8012_ABCD;
pub const UL_BLOCK_TYPE_V2: u32 = 0x220;
pub const EVF_BLOCK_TYPE: u32 = 0x208;
pub const EVF_BLOCK_TYPE_V2: u32 = 0x217;
pub const EVF_BLOCK_TYPE_V2_LARGE: u32 = 0x222;

/// Block header + trailer bytes.
pub const BLOCK_OVERHEAD: usize = 12;

/// What a block type number means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    SectionHeader,
    MachineInfo,
    /// Process list, version 1..=9.
    ProcList(u8),
    /// Fd list, version 1 or 2.
    FdList(u8),
    /// Event block: `v2` events carry `nparams`; `flags` blocks carry 32
    /// bits of flags; `large` ones use 32-bit param lengths for large types.
    Event {
        v2: bool,
        flags: bool,
        large: bool,
    },
    InterfaceList(u8),
    UserList(u8),
    Unknown,
}

impl BlockKind {
    pub fn of(block_type: u32) -> BlockKind {
        use BlockKind::*;
        match block_type {
            SHB_BLOCK_TYPE => SectionHeader,
            MI_BLOCK_TYPE | MI_BLOCK_TYPE_INT => MachineInfo,
            PL_BLOCK_TYPE_V1 | PL_BLOCK_TYPE_V1_INT => ProcList(1),
            PL_BLOCK_TYPE_V2 | PL_BLOCK_TYPE_V2_INT => ProcList(2),
            PL_BLOCK_TYPE_V3 | PL_BLOCK_TYPE_V3_INT => ProcList(3),
            PL_BLOCK_TYPE_V4 => ProcList(4),
            PL_BLOCK_TYPE_V5 => ProcList(5),
            PL_BLOCK_TYPE_V6 => ProcList(6),
            PL_BLOCK_TYPE_V7 => ProcList(7),
            PL_BLOCK_TYPE_V8 => ProcList(8),
            PL_BLOCK_TYPE_V9 => ProcList(9),
            FDL_BLOCK_TYPE | FDL_BLOCK_TYPE_INT => FdList(1),
            FDL_BLOCK_TYPE_V2 => FdList(2),
            EV_BLOCK_TYPE | EV_BLOCK_TYPE_INT => Event {
                v2: false,
                flags: false,
                large: false,
            },
            EV_BLOCK_TYPE_V2 => Event {
                v2: true,
                flags: false,
                large: false,
            },
            EV_BLOCK_TYPE_V2_LARGE => Event {
                v2: true,
                flags: false,
                large: true,
            },
            EVF_BLOCK_TYPE => Event {
                v2: false,
                flags: true,
                large: false,
            },
            EVF_BLOCK_TYPE_V2 => Event {
                v2: true,
                flags: true,
                large: false,
            },
            EVF_BLOCK_TYPE_V2_LARGE => Event {
                v2: true,
                flags: true,
                large: true,
            },
            IL_BLOCK_TYPE | IL_BLOCK_TYPE_INT => InterfaceList(1),
            IL_BLOCK_TYPE_V2 => InterfaceList(2),
            UL_BLOCK_TYPE | UL_BLOCK_TYPE_INT => UserList(1),
            UL_BLOCK_TYPE_V2 => UserList(2),
            _ => Unknown,
        }
    }

    /// Short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            BlockKind::SectionHeader => "section header",
            BlockKind::MachineInfo => "machine info",
            BlockKind::ProcList(_) => "process list",
            BlockKind::FdList(_) => "fd list",
            BlockKind::Event { flags: false, .. } => "event",
            BlockKind::Event { flags: true, .. } => "event with flags",
            BlockKind::InterfaceList(_) => "interface list",
            BlockKind::UserList(_) => "user list",
            BlockKind::Unknown => "unknown",
        }
    }

    pub fn is_event(self) -> bool {
        matches!(self, BlockKind::Event { .. })
    }
}

/// Event flags carried by EVF blocks (`SCAP_DF_*`).
pub const SCAP_DF_STATE_ONLY: u32 = 1;
pub const SCAP_DF_LARGE: u32 = 1 << 2;

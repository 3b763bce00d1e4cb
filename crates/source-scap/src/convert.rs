//! Turns events that are not already in Peregrine's in-memory layout
//! (little-endian, with `nparams`) into it: v1 events from old captures lack
//! `nparams`, and events from a big-endian section need every integer
//! swapped, param by param according to the event table.

use peregrine_event::net::{PPM_AF_INET, PPM_AF_INET6, PPM_AF_UNIX};
use peregrine_event::table::{self, ParamAux, ParamInfo, ParamType};

use crate::decode::event_header_len;

#[inline]
fn rd(b: &[u8], at: usize, n: usize, big: bool) -> u64 {
    let mut a = [0u8; 8];
    a[..n].copy_from_slice(&b[at..at + n]);
    if big {
        a[..n].reverse();
    }
    u64::from_le_bytes(a)
}

/// Copies the event at the start of `src` into `dst` as a little-endian v2
/// event. `src` must hold at least the event's declared length (the block
/// decoder checked that).
pub fn normalize_event(src: &[u8], v2: bool, big: bool, dst: &mut Vec<u8>) -> Result<(), String> {
    let hdr = event_header_len(v2);
    if src.len() < hdr {
        return Err(format!("event header needs {hdr} bytes"));
    }
    let ts = rd(src, 0, 8, big);
    let tid = rd(src, 8, 8, big);
    let len = rd(src, 16, 4, big) as usize;
    let ty = rd(src, 20, 2, big) as u16;
    let info = table::event_info(ty);
    let large = v2 && info.is_some_and(|i| i.is_large_payload());
    let width = if large { 4 } else { 2 };

    let (nparams, end) = if v2 {
        let n = rd(src, 22, 4, big) as usize;
        (n, len)
    } else {
        if info.is_some_and(|i| i.is_large_payload()) {
            return Err(format!(
                "v1 event of large-payload type {ty} cannot be converted"
            ));
        }
        // Old producers over-counted these two types by 3 bytes.
        let end = if ty == table::PPME_NOTIFICATION_E || ty == table::PPME_INFRASTRUCTURE_EVENT_E {
            len.saturating_sub(3)
        } else {
            len
        };
        (v1_nparams(src, end, ty, big)?, end)
    };
    if end > src.len() {
        return Err(format!(
            "event length {end} exceeds the {} bytes available",
            src.len()
        ));
    }
    let lens_at = hdr;
    let data_at = lens_at
        .checked_add(nparams.checked_mul(width).ok_or("nparams overflow")?)
        .ok_or("nparams overflow")?;
    if data_at > end {
        return Err(format!(
            "{nparams} params do not fit in an event of {end} bytes"
        ));
    }
    let new_len = end - hdr + 26;
    dst.clear();
    dst.reserve(new_len);
    dst.extend_from_slice(&ts.to_le_bytes());
    dst.extend_from_slice(&tid.to_le_bytes());
    dst.extend_from_slice(&(new_len as u32).to_le_bytes());
    dst.extend_from_slice(&ty.to_le_bytes());
    dst.extend_from_slice(&(nparams as u32).to_le_bytes());
    let mut off = data_at;
    for i in 0..nparams {
        let l = rd(src, lens_at + i * width, width, big) as usize;
        if width == 4 {
            dst.extend_from_slice(&(l as u32).to_le_bytes());
        } else {
            dst.extend_from_slice(&(l as u16).to_le_bytes());
        }
        off = off.checked_add(l).ok_or("param length overflow")?;
    }
    if off > end {
        return Err(format!(
            "param lengths add up to {} bytes, beyond the event's {end}",
            off
        ));
    }
    let mut p = data_at;
    for i in 0..nparams {
        let l = rd(src, lens_at + i * width, width, big) as usize;
        let bytes = &src[p..p + l];
        let start = dst.len();
        dst.extend_from_slice(bytes);
        if big {
            if let Some(pi) = info.and_then(|inf| inf.params.get(i)) {
                swap_param(pi, &mut dst[start..]);
            }
        }
        p += l;
    }
    // Bytes past the params but inside the declared length are kept.
    dst.extend_from_slice(&src[p..end]);
    Ok(())
}

/// libscap's rule for v1 events: start from the table's param count and go
/// down until the lengths add up to exactly the event length.
fn v1_nparams(src: &[u8], end: usize, ty: u16, big: bool) -> Result<usize, String> {
    let hdr = event_header_len(false);
    let max = table::event_info(ty).map_or(0, |i| i.params.len());
    if end > src.len() {
        return Err(format!("event length {end} exceeds the block"));
    }
    for n in (0..=max).rev() {
        let mut pos = hdr + 2 * n;
        if pos > end {
            continue;
        }
        for i in 0..n {
            pos += rd(src, hdr + 2 * i, 2, big) as usize;
        }
        if pos < end {
            return Err(format!(
                "cannot work out the params of a v1 event of type {ty}: lengths add up to {pos} of {end} bytes"
            ));
        }
        if pos == end {
            return Ok(n);
        }
    }
    Err(format!(
        "cannot work out the params of a v1 event of type {ty}: no param count fits its {end} bytes"
    ))
}

fn swap_n(b: &mut [u8], at: usize, n: usize) {
    if let Some(s) = b.get_mut(at..at + n) {
        s.reverse();
    }
}

/// Byte-swaps the integers inside one param (addresses stay in network order).
fn swap_param(info: &ParamInfo, b: &mut [u8]) {
    use ParamType as T;
    if b.is_empty() {
        return;
    }
    if let Some(n) = info.ty.fixed_size() {
        if matches!(info.ty, T::Ipv4addr | T::Ipv6addr) {
            return;
        }
        if b.len() == n {
            b.reverse();
        }
        return;
    }
    match info.ty {
        T::Sockaddr => match b[0] {
            PPM_AF_INET => swap_n(b, 5, 2),
            PPM_AF_INET6 => swap_n(b, 17, 2),
            _ => {}
        },
        T::Socktuple => match b[0] {
            PPM_AF_INET => {
                swap_n(b, 5, 2);
                swap_n(b, 11, 2);
            }
            PPM_AF_INET6 => {
                swap_n(b, 17, 2);
                swap_n(b, 35, 2);
            }
            PPM_AF_UNIX => {
                swap_n(b, 1, 8);
                swap_n(b, 9, 8);
            }
            _ => {}
        },
        T::Fdlist => {
            if b.len() < 2 {
                return;
            }
            b[..2].reverse();
            let count = u16::from_le_bytes([b[0], b[1]]) as usize;
            for i in 0..count {
                let at = 2 + i * 10;
                if at + 10 > b.len() {
                    break;
                }
                swap_n(b, at, 8);
                swap_n(b, at + 8, 2);
            }
        }
        T::Dyn => {
            if let ParamAux::Dyn(tbl) = info.aux {
                if let Some(inner) = tbl.get(b[0] as usize) {
                    swap_param(inner, &mut b[1..]);
                }
            }
        }
        _ => {}
    }
}

/// The inverse of [`normalize_event`] for big-endian output: rewrites a
/// little-endian v2 event in big-endian order (tests and interop).
pub fn event_to_big_endian(ev: &peregrine_event::RawEvent<'_>, dst: &mut Vec<u8>) {
    let src = ev.as_bytes();
    dst.clear();
    dst.extend_from_slice(src);
    let ty = ev.event_type();
    let width = if ev.large_payload() { 4 } else { 2 };
    for (at, n) in [(0usize, 8usize), (8, 8), (16, 4), (20, 2), (22, 4)] {
        dst[at..at + n].reverse();
    }
    let n = ev.nparams() as usize;
    for i in 0..n {
        swap_n(dst, 26 + i * width, width);
    }
    let info = table::event_info(ty);
    let mut p = 26 + n * width;
    for (i, bytes) in ev.params().enumerate() {
        let l = bytes.len();
        if let Some(pi) = info.and_then(|inf| inf.params.get(i)) {
            // Swapping is its own inverse except for counts read before the
            // swap (fdlists): swap after reading the count in host order.
            if pi.ty == ParamType::Fdlist && l >= 2 {
                let count = u16::from_le_bytes([bytes[0], bytes[1]]) as usize;
                let seg = &mut dst[p..p + l];
                seg[..2].reverse();
                for k in 0..count {
                    let at = 2 + k * 10;
                    if at + 10 > l {
                        break;
                    }
                    swap_n(seg, at, 8);
                    swap_n(seg, at + 8, 2);
                }
            } else {
                swap_param(pi, &mut dst[p..p + l]);
            }
        }
        p += l;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_event::raw::encode_event;
    use peregrine_event::table::*;
    use peregrine_event::RawEvent;

    #[test]
    fn v1_event_gains_nparams() {
        // A v1 close exit: header without nparams, one u16 length, an i64.
        let mut v1 = Vec::new();
        v1.extend_from_slice(&5u64.to_le_bytes());
        v1.extend_from_slice(&9u64.to_le_bytes());
        v1.extend_from_slice(&(22u32 + 2 + 8).to_le_bytes());
        v1.extend_from_slice(&PPME_SYSCALL_CLOSE_X.to_le_bytes());
        v1.extend_from_slice(&8u16.to_le_bytes());
        v1.extend_from_slice(&0i64.to_le_bytes());
        let mut out = Vec::new();
        normalize_event(&v1, false, false, &mut out).unwrap();
        let (ev, rest) = RawEvent::parse(&out).unwrap();
        assert!(rest.is_empty());
        assert_eq!((ev.ts(), ev.tid(), ev.nparams()), (5, 9, 1));
        assert_eq!(ev.param(0), Some(&0i64.to_le_bytes()[..]));
    }

    #[test]
    fn big_endian_round_trip() {
        let mut le = Vec::new();
        let mut tuple = vec![PPM_AF_INET, 127, 0, 0, 1];
        tuple.extend_from_slice(&47192u16.to_le_bytes());
        tuple.extend_from_slice(&[10, 0, 0, 2]);
        tuple.extend_from_slice(&80u16.to_le_bytes());
        encode_event(
            &mut le,
            123,
            456,
            PPME_SOCKET_CONNECT_X,
            false,
            &[&(-115i64).to_le_bytes(), &tuple, &3i64.to_le_bytes()],
        );
        let (ev, _) = RawEvent::parse(&le).unwrap();
        let mut be = Vec::new();
        event_to_big_endian(&ev, &mut be);
        assert_ne!(be, le);
        let mut back = Vec::new();
        normalize_event(&be, true, true, &mut back).unwrap();
        assert_eq!(back, le);
    }

    #[test]
    fn v1_lengths_that_never_fit_are_errors() {
        let mut v1 = Vec::new();
        v1.extend_from_slice(&[0u8; 16]);
        v1.extend_from_slice(&(22u32 + 2 + 8).to_le_bytes());
        v1.extend_from_slice(&PPME_SYSCALL_CLOSE_X.to_le_bytes());
        v1.extend_from_slice(&200u16.to_le_bytes());
        v1.extend_from_slice(&[0u8; 8]);
        let mut out = Vec::new();
        assert!(normalize_event(&v1, false, false, &mut out).is_err());
    }
}

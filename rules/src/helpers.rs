//! Small pure helpers shared by rules: Go durations, Istio host matching, value rendering.

use canarylint::Node;

/// Go's `time.ParseDuration`, as Flagger reads durations (shared with the plan).
pub use canarylint::duration::go_duration;

/// The CRD's pattern for Flagger durations: `^[0-9]+(m|s)` (not anchored at the end).
pub fn matches_crd_duration(s: &str) -> bool {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && matches!(s.as_bytes().get(digits), Some(b'm' | b's'))
}

/// Renders seconds as a short duration (`90s` → `1m30s`).
pub fn format_seconds(secs: f64) -> String {
    if secs.fract() != 0.0 || secs < 60.0 {
        return format!("{}s", canarylint::tree::format_number(secs));
    }
    let s = secs as i64;
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if sec > 0 || out.is_empty() {
        out.push_str(&format!("{sec}s"));
    }
    out
}

/// Istio's host overlap (`pkg/config/host/name.go` `Matches`): byte-exact, a leading `*`
/// wildcard matches any prefix, and two wildcards overlap when one suffix ends with the other.
pub fn hosts_overlap(a: &str, b: &str) -> bool {
    let aw = a.starts_with('*');
    let bw = b.starts_with('*');
    match (aw, bw) {
        (false, false) => a == b,
        (true, false) => b.ends_with(&a[1..]),
        (false, true) => a.ends_with(&b[1..]),
        (true, true) => {
            let (sa, sb) = (&a[1..], &b[1..]);
            if sa.len() >= sb.len() {
                sa.ends_with(sb)
            } else {
                sb.ends_with(sa)
            }
        }
    }
}

/// A DNS-1123 label: lower-case alphanumerics and `-`, starting and ending alphanumeric.
pub fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A number as written (`10`, not `10.0`).
pub fn num(f: f64) -> String {
    canarylint::tree::format_number(f)
}

/// The text of a node for messages.
pub fn shown(n: &Node) -> String {
    n.display()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crd_pattern_is_a_prefix_match() {
        assert!(matches_crd_duration("1m"));
        assert!(matches_crd_duration("1m30s"));
        assert!(matches_crd_duration("10ms"));
        assert!(!matches_crd_duration("1h"));
        assert!(!matches_crd_duration("m"));
    }

    #[test]
    fn istio_host_overlap() {
        assert!(hosts_overlap("*", "app.example.com"));
        assert!(hosts_overlap("*.example.com", "app.example.com"));
        assert!(!hosts_overlap("*.example.com", "example.com"));
        assert!(hosts_overlap("*.example.com", "*.a.example.com"));
        assert!(!hosts_overlap("App.example.com", "app.example.com"));
    }

    #[test]
    fn seconds_format() {
        assert_eq!(format_seconds(90.0), "1m30s");
        assert_eq!(format_seconds(10.0), "10s");
        assert_eq!(format_seconds(3600.0), "1h");
    }
}

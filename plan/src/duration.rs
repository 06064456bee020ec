//! Go durations, as Flagger parses them (`time.ParseDuration`), and a short rendering of seconds.

pub(crate) use canarylint::duration::go_duration;

/// Renders whole seconds the way Go prints durations, without the zero parts: `0s`, `15s`,
/// `1m`, `1m30s`, `2h5m`.
pub fn fmt_seconds(secs: u64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 {
        out.push_str(&format!("{s}s"));
    }
    out
}

/// Seconds as Flagger's tickers see them, rounded to whole seconds for display and JSON.
pub(crate) fn whole_seconds(secs: f64) -> u64 {
    if secs.is_finite() && secs > 0.0 {
        secs.round() as u64
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        assert_eq!(go_duration("1m30s"), Some(90.0));
        assert_eq!(go_duration("500ms"), Some(0.5));
        assert_eq!(go_duration("1.5h"), Some(5400.0));
        assert_eq!(go_duration("0"), Some(0.0));
        assert_eq!(go_duration("15"), None);
        assert_eq!(go_duration("1d"), None);
        assert_eq!(go_duration(""), None);
    }

    #[test]
    fn formats_seconds() {
        assert_eq!(fmt_seconds(0), "0s");
        assert_eq!(fmt_seconds(15), "15s");
        assert_eq!(fmt_seconds(60), "1m");
        assert_eq!(fmt_seconds(90), "1m30s");
        assert_eq!(fmt_seconds(7500), "2h5m");
    }
}

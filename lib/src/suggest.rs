//! "Did you mean …?"

/// The candidate closest to `word`, when it is close enough to be a likely typo.
pub fn did_you_mean<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let lower = word.to_ascii_lowercase();
    let mut best: Option<(&str, f64)> = None;
    for c in candidates {
        if c == word {
            continue;
        }
        if c.to_ascii_lowercase() == lower {
            return Some(c);
        }
        let score = strsim::jaro_winkler(&lower, &c.to_ascii_lowercase());
        if best.is_none_or(|(_, b)| score > b) {
            best = Some((c, score));
        }
    }
    best.filter(|(_, s)| *s >= 0.85).map(|(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_names_only() {
        let c = ["stepWeight", "stepWeights", "maxWeight", "interval"];
        assert_eq!(did_you_mean("stepweight", c), Some("stepWeight"));
        assert_eq!(did_you_mean("intervall", c), Some("interval"));
        assert_eq!(did_you_mean("zzz", c), None);
    }
}

//! Recognises the API server's second call for one denied update.
//!
//! When a validating webhook denies an UPDATE (a `kubectl apply`, `patch` or `label` of an
//! existing object), the API server asks again: its storage first tries the update against the
//! object from its watch cache and, when that try fails for any reason — the denial included —
//! tries once more against the object read from etcd
//! (`k8s.io/apiserver/pkg/storage/etcd3`, `GuaranteedUpdate`). The second call carries a new
//! `uid` and otherwise the same review. Without telling them apart, every denied update
//! would count (and log) as two denials.
//!
//! A denial whose body, its uid left out, equals that of a denial answered less than
//! [`WINDOW`] ago is a repeat: logged with `repeat=true` and counted in
//! `canarylint_webhook_repeated_reviews_total`, so that the denials of distinct requests are
//! `reviews_total{decision="deny"}` minus `repeated_reviews_total{decision="deny"}`.

use std::collections::VecDeque;
use std::collections::hash_map::DefaultHasher;
use std::hash::Hasher;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a denial is remembered. The retry follows the first call at once (one etcd
/// read later); an identical request sent again by a person comes seconds later at best.
pub const WINDOW: Duration = Duration::from_secs(2);

/// At most this many denials are remembered; a burst of denials beyond it may miss a repeat.
const CAPACITY: usize = 256;

/// The denials answered within the last [`WINDOW`].
#[derive(Default)]
pub struct Repeats {
    recent: Mutex<VecDeque<(Instant, u64)>>,
}

impl Repeats {
    /// Remembers this denial; true when the same review (but for its uid) was denied within
    /// the window.
    pub fn seen(&self, body: &[u8], uid: &str) -> bool {
        self.seen_at(Instant::now(), body, uid)
    }

    fn seen_at(&self, now: Instant, body: &[u8], uid: &str) -> bool {
        let key = digest(body, uid);
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        while recent
            .front()
            .is_some_and(|(at, _)| now.saturating_duration_since(*at) > WINDOW)
        {
            recent.pop_front();
        }
        let repeat = recent.iter().any(|(_, k)| *k == key);
        if recent.len() == CAPACITY {
            recent.pop_front();
        }
        recent.push_back((now, key));
        repeat
    }
}

/// A hash of the body with every occurrence of the uid left out.
fn digest(body: &[u8], uid: &str) -> u64 {
    let mut h = DefaultHasher::new();
    let mut rest = body;
    if !uid.is_empty() {
        for at in memchr::memmem::find_iter(body, uid.as_bytes()) {
            let offset = body.len() - rest.len();
            if at >= offset {
                h.write(&rest[..at - offset]);
                rest = &rest[at - offset + uid.len()..];
            }
        }
    }
    h.write(rest);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review(uid: &str, threshold: u32) -> Vec<u8> {
        format!(
            r#"{{"request":{{"uid":"{uid}","object":{{"spec":{{"threshold":{threshold}}}}}}}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn the_same_review_with_another_uid_is_a_repeat() {
        let r = Repeats::default();
        let t = Instant::now();
        assert!(!r.seen_at(t, &review("a-1", 5), "a-1"));
        assert!(r.seen_at(t + Duration::from_millis(5), &review("b-2", 5), "b-2"));
    }

    #[test]
    fn another_object_or_a_late_one_is_not() {
        let r = Repeats::default();
        let t = Instant::now();
        assert!(!r.seen_at(t, &review("a-1", 5), "a-1"));
        assert!(!r.seen_at(t, &review("b-2", 6), "b-2"));
        assert!(!r.seen_at(t + WINDOW * 2, &review("c-3", 5), "c-3"));
    }

    #[test]
    fn the_uid_is_left_out_wherever_it_occurs() {
        let a = br#"{"uid":"x1","name":"x1-y"}"#;
        let b = br#"{"uid":"z9","name":"z9-y"}"#;
        assert_eq!(digest(a, "x1"), digest(b, "z9"));
        assert_ne!(digest(a, "x1"), digest(b, "q"));
        assert_eq!(digest(b"abc", ""), digest(b"abc", ""));
    }
}

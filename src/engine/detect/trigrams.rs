//! A set of three-letter windows, a bit each: the cheap first screen of the readings that
//! look a word up (compounds, sounds, misspellings). A token whose window is not in the
//! set is ruled out before any hashing.

/// Three lowercase letters make this many windows.
const WINDOWS: usize = 26 * 26 * 26;

/// A set of three-letter windows; an empty set takes no memory.
#[derive(Clone, Debug, Default)]
pub struct Trigrams {
    bits: Vec<u64>,
}

impl Trigrams {
    /// Adds the window of the first three bytes of `letters` (fewer are read as they are).
    pub fn insert(&mut self, letters: &[u8]) {
        if self.bits.is_empty() {
            self.bits = vec![0; WINDOWS.div_ceil(64)];
        }
        let at = window(letters);
        self.bits[at / 64] |= 1 << (at % 64);
    }

    /// Whether the window of the first three bytes of `letters` is in the set.
    pub fn contains(&self, letters: &[u8]) -> bool {
        let at = window(letters);
        self.bits
            .get(at / 64)
            .is_some_and(|word| word & (1 << (at % 64)) != 0)
    }
}

/// The index of the first three bytes of `letters`; bytes that are no lowercase letter
/// share indexes with letters, which only lets more through.
fn window(letters: &[u8]) -> usize {
    letters
        .iter()
        .take(3)
        .fold(0, |at, &b| at * 26 + usize::from(b.wrapping_sub(b'a')) % 26)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_what_was_inserted_and_little_else() {
        let mut set = Trigrams::default();
        set.insert(b"fuck");
        assert!(set.contains(b"fuc"));
        assert!(set.contains(b"fucking"));
        assert!(!set.contains(b"duc"));
        assert!(!set.contains(b"fud"));
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_are_looked_up_without_panic(bytes in proptest::collection::vec(0u8.., 0..8)) {
            let mut set = Trigrams::default();
            set.insert(&bytes);
            proptest::prop_assert!(set.contains(&bytes));
        }
    }
}

//! The RFC 9162 Merkle tree (§2.1): leaves in log order, `leaf = SHA-256(0x00 || data)`,
//! `node = SHA-256(0x01 || left || right)`, a tree of n leaves split at the largest
//! power of two below n.
//!
//! The tree is kept as its *perfect subtrees*: the hash of every aligned block of
//! 2^level leaves once it is complete, addressed by (level, index). Appending leaf n
//! completes at most log₂ n + 1 of them (two on average), so the tree grows with
//! the log; the root of any size and any proof are then built from O(log n) of them
//! ([`SubtreeHashes`]), never from a rebuild. Verification follows the RFC's
//! algorithms (§2.1.3.2, §2.1.4.2) step by step.

use sha2::{Digest, Sha256};
use thiserror::Error;

/// A SHA-256 hash in the tree.
pub type Hash = [u8; 32];

/// RFC 9162's hash of a tree with no leaves: SHA-256 of the empty string.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// A leaf's hash: SHA-256(0x00 || data).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(data);
    hasher.finalize().into()
}

/// An inner node's hash: SHA-256(0x01 || left || right). Slices, not [`Hash`]es, so
/// that a verifier can chain whatever bytes it was given (a root of the wrong length
/// then simply fails to match).
pub fn node_hash(left: &[u8], right: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// Where the perfect subtree hashes live: in memory ([`MemoryTree`]) or in a log's
/// store. `perfect(level, index)` is the hash of leaves
/// `[index · 2^level, (index + 1) · 2^level)`, asked only once they all exist.
pub trait SubtreeHashes {
    /// Why a stored hash could not be read.
    type Error;

    /// The hash of the complete subtree at `level` and `index`.
    fn perfect(&self, level: u32, index: u64) -> Result<Hash, Self::Error>;
}

/// The perfect subtrees leaf `index` completes, given the hash of its left sibling at
/// each level it asks for: (level, index, hash) from the leaf up. What an
/// incremental tree stores when it appends.
pub fn completed_by<E>(
    index: u64,
    leaf: Hash,
    mut left_sibling: impl FnMut(u32, u64) -> Result<Hash, E>,
) -> Result<Vec<(u32, u64, Hash)>, E> {
    let mut completed = vec![(0, index, leaf)];
    let (mut level, mut at, mut hash) = (0u32, index, leaf);
    // A node at an odd index is a right child: with its left sibling it completes
    // the parent.
    while at & 1 == 1 {
        let left = left_sibling(level, at - 1)?;
        hash = node_hash(&left, &hash);
        level += 1;
        at >>= 1;
        completed.push((level, at, hash));
    }
    Ok(completed)
}

/// The largest power of two strictly below `n` (n ≥ 2): where RFC 9162 splits.
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// MTH(D[start : start + len]) for a range whose start is aligned to the largest
/// power of two not above `len`, as every range the RFC's recursion visits is.
fn range_hash<S: SubtreeHashes + ?Sized>(
    store: &S,
    start: u64,
    len: u64,
) -> Result<Hash, S::Error> {
    if len.is_power_of_two() {
        let level = len.trailing_zeros();
        return store.perfect(level, start >> level);
    }
    let k = split(len);
    let left = range_hash(store, start, k)?;
    let right = range_hash(store, start + k, len - k)?;
    Ok(node_hash(&left, &right))
}

/// Why a proof could not be made.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ProofError<E> {
    /// The asked index or size is outside the tree.
    #[error("{0}")]
    OutOfRange(String),
    /// A stored subtree hash could not be read.
    #[error("subtree hash unreadable: {0:?}")]
    Store(E),
}

/// The root of the first `size` leaves.
pub fn root<S: SubtreeHashes + ?Sized>(store: &S, size: u64) -> Result<Hash, S::Error> {
    if size == 0 {
        return Ok(empty_root());
    }
    range_hash(store, 0, size)
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves (RFC 9162
/// §2.1.3.1, PATH), from the leaf's sibling up.
pub fn inclusion_proof<S: SubtreeHashes + ?Sized>(
    store: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofError<S::Error>> {
    if index >= size {
        return Err(ProofError::OutOfRange(format!(
            "leaf {index} is not in a tree of {size} leaves"
        )));
    }
    // Walk down from the whole tree, remembering each sibling; the proof lists them
    // from the bottom.
    let mut path = Vec::new();
    let (mut start, mut len, mut at) = (0u64, size, index);
    while len > 1 {
        let k = split(len);
        if at < k {
            path.push(range_hash(store, start + k, len - k).map_err(ProofError::Store)?);
            len = k;
        } else {
            path.push(range_hash(store, start, k).map_err(ProofError::Store)?);
            start += k;
            at -= k;
            len -= k;
        }
    }
    path.reverse();
    Ok(path)
}

/// The consistency proof from the tree of `old` leaves to the tree of `new` leaves
/// (RFC 9162 §2.1.4.1, PROOF/SUBPROOF). Empty when the sizes are equal; refused
/// from size 0, where there is nothing to prove.
pub fn consistency_proof<S: SubtreeHashes + ?Sized>(
    store: &S,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, ProofError<S::Error>> {
    if old == 0 || old > new {
        return Err(ProofError::OutOfRange(format!(
            "no consistency proof from {old} leaves to {new}"
        )));
    }
    let mut proof = Vec::new();
    // SUBPROOF(m, D[start : start + len], whole), unrolled: `whole` says the old tree
    // is still the left edge of everything seen, so its root need not be sent.
    let (mut start, mut len, mut m, mut whole) = (0u64, new, old, true);
    while m != len {
        let k = split(len);
        if m <= k {
            proof.push(range_hash(store, start + k, len - k).map_err(ProofError::Store)?);
            len = k;
        } else {
            proof.push(range_hash(store, start, k).map_err(ProofError::Store)?);
            start += k;
            m -= k;
            len -= k;
            whole = false;
        }
    }
    if !whole {
        proof.push(range_hash(store, start, len).map_err(ProofError::Store)?);
    }
    proof.reverse();
    Ok(proof)
}

/// Why a proof does not verify.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// The index or sizes cannot be proved at all.
    #[error("{0}")]
    Impossible(String),
    /// The proof has the wrong number of hashes for its sizes.
    #[error("proof has {got} hashes where {want} were expected")]
    WrongLength { got: usize, want: usize },
    /// The proof hashes to a different root.
    #[error("proof does not lead to the given root")]
    RootMismatch,
}

/// Right-shifts `fn_` and `sn` together until `fn_`'s low bit is set or it is 0.
fn shift_until_odd(fn_: &mut u64, sn: &mut u64) {
    while *fn_ & 1 == 0 && *fn_ != 0 {
        *fn_ >>= 1;
        *sn >>= 1;
    }
}

/// Verifies that `leaf` (a leaf hash) is at `index` in the tree of `size` leaves
/// whose root is `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &[u8],
    proof: &[Hash],
    root: &[u8],
) -> Result<(), VerifyError> {
    if index >= size {
        return Err(VerifyError::Impossible(format!(
            "leaf {index} cannot be in a tree of {size} leaves"
        )));
    }
    if leaf.len() != 32 || root.len() != 32 {
        return Err(VerifyError::Impossible(
            "a leaf hash and a root are 32-byte SHA-256 hashes".into(),
        ));
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = leaf.to_vec();
    for p in proof {
        if sn == 0 {
            return Err(VerifyError::WrongLength {
                got: proof.len(),
                want: expected_inclusion_len(index, size),
            });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r).to_vec();
            if fn_ & 1 == 0 {
                shift_until_odd(&mut fn_, &mut sn);
            }
        } else {
            r = node_hash(&r, p).to_vec();
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(VerifyError::WrongLength {
            got: proof.len(),
            want: expected_inclusion_len(index, size),
        });
    }
    if r != root {
        return Err(VerifyError::RootMismatch);
    }
    Ok(())
}

/// How many hashes an inclusion proof of `index` in `size` leaves has (for messages).
fn expected_inclusion_len(index: u64, size: u64) -> usize {
    let inner = 64 - (index ^ (size - 1)).leading_zeros();
    let border = (index >> inner).count_ones();
    (inner + border) as usize
}

/// Verifies that the tree of `old` leaves with root `old_root` is a prefix of the
/// tree of `new` leaves with root `new_root` (RFC 9162 §2.1.4.2). A proof from size
/// 0 is refused (there is nothing to prove), as is `old > new`; equal sizes need an
/// empty proof and equal roots.
pub fn verify_consistency(
    old: u64,
    new: u64,
    proof: &[Hash],
    old_root: &[u8],
    new_root: &[u8],
) -> Result<(), VerifyError> {
    if old > new {
        return Err(VerifyError::Impossible(format!(
            "a tree of {old} leaves cannot be a prefix of one of {new}"
        )));
    }
    if old == 0 {
        return Err(VerifyError::Impossible(
            "a consistency proof from the empty tree proves nothing".into(),
        ));
    }
    if old == new {
        if !proof.is_empty() {
            return Err(VerifyError::WrongLength {
                got: proof.len(),
                want: 0,
            });
        }
        return if old_root == new_root {
            Ok(())
        } else {
            Err(VerifyError::RootMismatch)
        };
    }
    if proof.is_empty() {
        return Err(VerifyError::WrongLength { got: 0, want: 1 });
    }
    // Step 2: when the old tree is a perfect subtree its root heads the path.
    let mut path: Vec<&[u8]> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(old_root);
    }
    path.extend(proof.iter().map(|h| h.as_slice()));
    // Steps 3-4.
    let (mut fn_, mut sn) = (old - 1, new - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 5.
    let mut fr = path[0].to_vec();
    let mut sr = path[0].to_vec();
    // Step 6.
    for c in &path[1..] {
        if sn == 0 {
            return Err(VerifyError::WrongLength {
                got: proof.len(),
                want: proof.len() - 1,
            });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr).to_vec();
            sr = node_hash(c, &sr).to_vec();
            if fn_ & 1 == 0 {
                shift_until_odd(&mut fn_, &mut sn);
            }
        } else {
            sr = node_hash(&sr, c).to_vec();
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 7.
    if sn != 0 {
        return Err(VerifyError::WrongLength {
            got: proof.len(),
            want: proof.len() + 1,
        });
    }
    if fr != old_root || sr != new_root {
        return Err(VerifyError::RootMismatch);
    }
    Ok(())
}

/// A whole tree in memory, kept as its perfect subtrees: for tests, benches and
/// small logs; a log keeps the same hashes in its store.
#[derive(Debug, Default, Clone)]
pub struct MemoryTree {
    /// `levels[l][i]` = perfect(l, i).
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> MemoryTree {
        MemoryTree::default()
    }

    /// How many leaves it holds.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    /// Appends a leaf by its hash ([`leaf_hash`] of the data).
    pub fn push(&mut self, leaf: Hash) {
        let index = self.size();
        let completed = completed_by::<std::convert::Infallible>(index, leaf, |level, at| {
            Ok(self.levels[level as usize][at as usize])
        });
        let Ok(completed) = completed;
        for (level, _, hash) in completed {
            if self.levels.len() <= level as usize {
                self.levels.push(Vec::new());
            }
            self.levels[level as usize].push(hash);
        }
    }

    /// The root of the whole tree.
    pub fn root(&self) -> Hash {
        let Ok(hash) = root(self, self.size());
        hash
    }
}

impl SubtreeHashes for MemoryTree {
    type Error = std::convert::Infallible;

    fn perfect(&self, level: u32, index: u64) -> Result<Hash, Self::Error> {
        // Asked only for complete subtrees, which push has stored.
        Ok(self.levels[level as usize][index as usize])
    }
}

/// MTH(D) computed from the leaf hashes by the RFC's recursive definition, with no
/// stored subtrees: the reference the incremental tree is tested against.
pub fn root_from_scratch(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n as u64) as usize;
            node_hash(
                &root_from_scratch(&leaves[..k]),
                &root_from_scratch(&leaves[k..]),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree_of(n: u64) -> (MemoryTree, Vec<Hash>) {
        let mut tree = MemoryTree::new();
        let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        for leaf in &leaves {
            tree.push(*leaf);
        }
        (tree, leaves)
    }

    #[test]
    fn given_rfc_definitions_when_hashing_then_prefixes_separate_leaves_from_nodes() {
        assert_eq!(
            empty_root(),
            *b"\xe3\xb0\xc4\x42\x98\xfc\x1c\x14\x9a\xfb\xf4\xc8\x99\x6f\xb9\x24\x27\xae\x41\xe4\x64\x9b\x93\x4c\xa4\x95\x99\x1b\x78\x52\xb8\x55"
        );
        assert_ne!(leaf_hash(b""), empty_root());
        assert_ne!(node_hash(b"a", b"b"), leaf_hash(b"ab"));
    }

    #[test]
    fn given_a_tree_when_growing_then_each_root_is_the_one_from_scratch() {
        assert_eq!(root_from_scratch(&[]), empty_root());
        assert_eq!(MemoryTree::new().root(), empty_root());
        let (tree, leaves) = tree_of(70);
        assert_eq!(tree.size(), 70);
        assert_eq!(tree.root(), root_from_scratch(&leaves));
        for size in 0..=70u64 {
            let Ok(at) = root(&tree, size);
            assert_eq!(
                at,
                root_from_scratch(&leaves[..size as usize]),
                "size {size}"
            );
        }
    }

    #[test]
    fn given_out_of_range_requests_when_proving_then_refused() {
        let (tree, _) = tree_of(5);
        assert!(matches!(
            inclusion_proof(&tree, 5, 5),
            Err(ProofError::OutOfRange(_))
        ));
        assert!(matches!(
            consistency_proof(&tree, 0, 5),
            Err(ProofError::OutOfRange(_))
        ));
        assert!(matches!(
            consistency_proof(&tree, 4, 3),
            Err(ProofError::OutOfRange(_))
        ));
        assert_eq!(consistency_proof(&tree, 5, 5), Ok(vec![]));
    }

    #[test]
    fn given_every_small_tree_when_proving_then_every_proof_verifies_and_a_flipped_bit_fails() {
        let (tree, leaves) = tree_of(33);
        for size in 1..=33u64 {
            let at = root_from_scratch(&leaves[..size as usize]);
            for index in 0..size {
                let Ok(proof) = inclusion_proof(&tree, index, size) else {
                    panic!("no proof of {index} in {size}");
                };
                let leaf = leaves[index as usize];
                assert_eq!(verify_inclusion(index, size, &leaf, &proof, &at), Ok(()));
                if let Some(first) = proof.first() {
                    let mut bad = proof.clone();
                    bad[0][0] ^= 1;
                    assert_ne!(first, &bad[0]);
                    assert!(verify_inclusion(index, size, &leaf, &bad, &at).is_err());
                }
            }
            for old in 1..=size {
                let Ok(proof) = consistency_proof(&tree, old, size) else {
                    panic!("no proof from {old} to {size}");
                };
                let old_root = root_from_scratch(&leaves[..old as usize]);
                assert_eq!(
                    verify_consistency(old, size, &proof, &old_root, &at),
                    Ok(()),
                    "{old} -> {size}"
                );
                let mut other = old_root;
                other[31] ^= 1;
                assert!(verify_consistency(old, size, &proof, &other, &at).is_err());
            }
        }
    }
}

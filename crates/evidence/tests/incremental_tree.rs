//! Property (issue 16, acceptance 1): for random sizes up to 10,000 and m ≤ n, the
//! proofs the incremental tree makes verify against roots computed from scratch by
//! the RFC's recursive definition, and a proof for the wrong leaf or root fails. The
//! same tree stored as tiles, grown in groups of random sizes as a log grows it, gives
//! the very same roots and proofs.

use accord_evidence::merkle::{
    consistency_proof, inclusion_proof, leaf_hash, root, root_from_scratch, verify_consistency,
    verify_inclusion, Hash, MemoryTree,
};
use accord_evidence::tiles::{apply_writes, MemoryTiles, TileBuilder, Tiles};
use proptest::prelude::*;

fn leaves(n: u64, salt: u8) -> Vec<Hash> {
    (0..n)
        .map(|i| leaf_hash(&[&i.to_be_bytes()[..], &[salt]].concat()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn proofs_from_the_incremental_tree_verify_against_roots_from_scratch(
        n in 1u64..=10_000,
        m_seed in any::<u64>(),
        i_seed in any::<u64>(),
        salt in any::<u8>(),
        group in 1usize..=300,
    ) {
        let leaves = leaves(n, salt);
        let mut tree = MemoryTree::new();
        let mut tiles = MemoryTiles::new();
        let mut builder = TileBuilder::new();
        for chunk in leaves.chunks(group) {
            for leaf in chunk {
                tree.push(*leaf);
                builder.push(*leaf);
            }
            apply_writes(&mut tiles, builder.take_writes());
        }
        let m = 1 + m_seed % n;
        let index = i_seed % m;
        let new_root = root_from_scratch(&leaves);
        let old_root = root_from_scratch(&leaves[..m as usize]);
        let Ok(at_m) = root(&tree, m);
        prop_assert_eq!(at_m, old_root);
        prop_assert_eq!(tree.root(), new_root);

        let Ok(path) = inclusion_proof(&tree, index, m) else {
            return Err(TestCaseError::fail("no inclusion proof"));
        };
        prop_assert_eq!(verify_inclusion(index, m, &leaves[index as usize], &path, &old_root), Ok(()));
        let other = leaf_hash(b"not in the log");
        prop_assert!(verify_inclusion(index, m, &other, &path, &old_root).is_err());

        let Ok(proof) = consistency_proof(&tree, m, n) else {
            return Err(TestCaseError::fail("no consistency proof"));
        };
        prop_assert_eq!(verify_consistency(m, n, &proof, &old_root, &new_root), Ok(()));
        if m < n {
            // A rewritten history: the same sizes, one leaf changed.
            let mut rewritten = leaves.clone();
            rewritten[index as usize] = other;
            let forged_old = root_from_scratch(&rewritten[..m as usize]);
            prop_assert!(verify_consistency(m, n, &proof, &forged_old, &new_root).is_err());
        }

        let tiled = Tiles(&tiles);
        prop_assert_eq!(root(&tiled, m), Ok(old_root));
        prop_assert_eq!(root(&tiled, n), Ok(new_root));
        prop_assert_eq!(inclusion_proof(&tiled, index, m).ok(), Some(path));
        prop_assert_eq!(consistency_proof(&tiled, m, n).ok(), Some(proof));
    }
}

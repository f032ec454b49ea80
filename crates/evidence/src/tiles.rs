//! A Merkle tree stored as *tiles*, the layout of C2SP `tlog-tiles`: a tile at tile
//! level L and index N holds up to 256 consecutive hashes of tree level 8·L (at
//! level 0 the leaf hashes, at level 1 the roots of full level-0 tiles, ...). The
//! seven tree levels inside a tile are not stored; they are hashed from it when
//! asked.
//!
//! Why tiles and not one stored hash per node: a store's cost is per key written, and
//! a log appending a group of events then rewrites one key per tile level it touched
//! (the growing right-edge tile, plus any tile the group filled), a handful per
//! group instead of about two per event. A subtree hash costs one tile read and at
//! most 127 SHA-256 compressions, so a root or a proof still costs O(log n) reads.

use thiserror::Error;

use crate::merkle::{node_hash, Hash, SubtreeHashes};

/// Tree levels per tile.
pub const TILE_HEIGHT: u32 = 8;
/// Hashes in a full tile.
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;
const HASH_BYTES: usize = 32;
const FULL_TILE_BYTES: usize = TILE_WIDTH as usize * HASH_BYTES;

/// Where tiles are kept: `tile(level, index)` is the stored bytes (32 per hash) or
/// `None` if that tile was never written.
pub trait TileStore {
    /// Why a tile could not be read.
    type Error;
    /// The tile's bytes.
    type Bytes: AsRef<[u8]>;

    /// The stored tile at tile `level` and `index`.
    fn tile(&self, level: u32, index: u64) -> Result<Option<Self::Bytes>, Self::Error>;
}

impl<S: TileStore + ?Sized> TileStore for &S {
    type Error = S::Error;
    type Bytes = S::Bytes;

    fn tile(&self, level: u32, index: u64) -> Result<Option<Self::Bytes>, Self::Error> {
        (**self).tile(level, index)
    }
}

/// Why a subtree hash could not be had from tiles.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TileError<E> {
    /// The store failed.
    #[error("tile store: {0:?}")]
    Store(E),
    /// The tile that holds the hash is not stored, or holds fewer hashes than the
    /// tree it should be part of: the stored tree is short of its log.
    #[error("tile {level}/{index} holds {held} hashes, {needed} needed")]
    Short {
        level: u32,
        index: u64,
        held: usize,
        needed: usize,
    },
    /// A stored tile's length is not a whole number of hashes, or above a full tile.
    #[error("tile {level}/{index} is malformed ({bytes} bytes)")]
    Malformed {
        level: u32,
        index: u64,
        bytes: usize,
    },
}

/// The key of a tile in a byte-keyed store: tile level (1 byte) then index (8 bytes,
/// big-endian), so a store's tiles sort by level, then position.
pub fn tile_key(level: u32, index: u64) -> [u8; 9] {
    let mut key = [0; 9];
    key[0] = level as u8;
    key[1..].copy_from_slice(&index.to_be_bytes());
    key
}

/// The root of a perfect run of hashes (a power of two of them), pairwise.
fn perfect_root(hashes: &[u8]) -> Hash {
    let mut level: Vec<Hash> = hashes
        .chunks_exact(HASH_BYTES)
        .map(|chunk| {
            let mut hash = [0; 32];
            hash.copy_from_slice(chunk);
            hash
        })
        .collect();
    while level.len() > 1 {
        level = level
            .chunks_exact(2)
            .map(|pair| node_hash(&pair[0], &pair[1]))
            .collect();
    }
    level.first().copied().unwrap_or_default()
}

/// Reads `needed` hashes from the start of a stored tile.
fn read_tile<S: TileStore>(
    store: &S,
    level: u32,
    index: u64,
    needed: usize,
) -> Result<Vec<u8>, TileError<S::Error>> {
    let bytes = store.tile(level, index).map_err(TileError::Store)?;
    let held = bytes.as_ref().map_or(&[][..], |b| b.as_ref());
    if held.len() % HASH_BYTES != 0 || held.len() > FULL_TILE_BYTES {
        return Err(TileError::Malformed {
            level,
            index,
            bytes: held.len(),
        });
    }
    if held.len() < needed * HASH_BYTES {
        return Err(TileError::Short {
            level,
            index,
            held: held.len() / HASH_BYTES,
            needed,
        });
    }
    Ok(held[..needed * HASH_BYTES].to_vec())
}

/// The root of the full tile at `level` and `index`: the hash one tile level up
/// that summarises it, for checking a stored tile against the ones below it.
pub fn tile_root<S: TileStore>(
    store: &S,
    level: u32,
    index: u64,
) -> Result<Hash, TileError<S::Error>> {
    let hashes = read_tile(store, level, index, TILE_WIDTH as usize)?;
    Ok(perfect_root(&hashes))
}

/// A tree read from a [`TileStore`]: every subtree hash a root or a proof needs.
#[derive(Debug, Clone, Copy)]
pub struct Tiles<S>(pub S);

impl<S: TileStore> SubtreeHashes for Tiles<S> {
    type Error = TileError<S::Error>;

    fn perfect(&self, level: u32, index: u64) -> Result<Hash, Self::Error> {
        let tile_level = level / TILE_HEIGHT;
        let within = level % TILE_HEIGHT;
        // The subtree covers 2^within consecutive hashes of tree level 8·tile_level,
        // aligned, so all in one tile.
        let first = index << within;
        let count = 1usize << within;
        let tile = first / TILE_WIDTH;
        let offset = (first % TILE_WIDTH) as usize;
        let hashes = read_tile(&self.0, tile_level, tile, offset + count)?;
        Ok(perfect_root(&hashes[offset * HASH_BYTES..]))
    }
}

/// One tile to write: its level, index and whole contents so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileWrite {
    pub level: u32,
    pub index: u64,
    pub bytes: Vec<u8>,
}

/// The growing right edge of a tiled tree, in memory: appends leaves and says which
/// tiles to (re)write. What a log's writer keeps between groups.
#[derive(Debug, Clone, Default)]
pub struct TileBuilder {
    size: u64,
    /// `edge[l]`: the partial (not yet full) tile at tile level l, and its index.
    edge: Vec<(u64, Vec<u8>)>,
    /// Tiles to write since the last [`TileBuilder::take_writes`]: ones that filled,
    /// and whether each level's partial tile changed.
    filled: Vec<TileWrite>,
    touched: Vec<bool>,
    /// Tile levels below this one are kept only as the growing edge, never handed
    /// out to be stored: a store that can derive them (a log derives level 0, the
    /// leaf hashes, from its events) need not keep them.
    stored_from: u32,
}

impl TileBuilder {
    /// An empty tree.
    pub fn new() -> TileBuilder {
        TileBuilder::default()
    }

    /// Picks up the tree of `size` leaves kept in `store`: reads the partial tile of
    /// each level (O(log n) reads), refusing a store that holds fewer hashes than
    /// the size needs.
    pub fn resume<S: TileStore>(store: &S, size: u64) -> Result<TileBuilder, TileError<S::Error>> {
        let mut builder = TileBuilder {
            size,
            ..TileBuilder::default()
        };
        let mut level = 0;
        let mut count = size;
        while count > 0 {
            let (index, held) = (count / TILE_WIDTH, (count % TILE_WIDTH) as usize);
            let bytes = if held > 0 {
                read_tile(store, level, index, held)?
            } else {
                Vec::new()
            };
            builder.edge.push((index, bytes));
            builder.touched.push(false);
            count /= TILE_WIDTH;
            level += 1;
        }
        Ok(builder)
    }

    /// Hands out only tiles of `level` and above to be stored (see
    /// [`TileBuilder::take_writes`]); lower ones the store derives itself.
    pub fn storing_from(mut self, level: u32) -> TileBuilder {
        self.stored_from = level;
        self
    }

    /// How many leaves the tree holds.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf by its hash ([`crate::merkle::leaf_hash`] of the data).
    pub fn push(&mut self, leaf: Hash) {
        let mut hash = leaf;
        let mut level = 0;
        loop {
            if self.edge.len() == level {
                self.edge.push((0, Vec::new()));
                self.touched.push(false);
            }
            let (index, tile) = &mut self.edge[level];
            tile.extend_from_slice(&hash);
            self.touched[level] = true;
            if tile.len() < FULL_TILE_BYTES {
                break;
            }
            // A full tile is written once more, whole, and never again; its root is
            // the next hash one tile level up.
            let full = std::mem::take(tile);
            hash = perfect_root(&full);
            if level as u32 >= self.stored_from {
                self.filled.push(TileWrite {
                    level: level as u32,
                    index: *index,
                    bytes: full,
                });
            }
            *index += 1;
            self.touched[level] = false;
            level += 1;
        }
        self.size += 1;
    }

    /// The root of the tree as it stands, from the edge alone (O(log n) memory):
    /// what a verifier streaming a log's leaves needs.
    /// Refused only if the builder was resumed from a store it did not match.
    pub fn root(&self) -> Result<Hash, TileError<std::convert::Infallible>> {
        crate::merkle::root(&Tiles(&Edge(self)), self.size)
    }

    /// The tiles that filled since the last call (or the last
    /// [`TileBuilder::take_writes`]), leaving the partial ones: what a verifier
    /// compares with a store as it walks, without copying the growing edge.
    pub fn take_filled(&mut self) -> Vec<TileWrite> {
        std::mem::take(&mut self.filled)
    }

    /// Whether a tile filled since the last take.
    pub fn has_filled(&self) -> bool {
        !self.filled.is_empty()
    }

    /// The tiles to write so that the store holds the tree as it now stands: every
    /// tile that filled, then each partial tile that changed, since the last call.
    pub fn take_writes(&mut self) -> Vec<TileWrite> {
        let mut writes = std::mem::take(&mut self.filled);
        for (level, ((index, tile), touched)) in self.edge.iter().zip(&mut self.touched).enumerate()
        {
            if std::mem::take(touched) && !tile.is_empty() && level as u32 >= self.stored_from {
                writes.push(TileWrite {
                    level: level as u32,
                    index: *index,
                    bytes: tile.clone(),
                });
            }
        }
        writes
    }
}

/// A builder's edge tiles as a store: all a root of the builder's own size reads.
struct Edge<'a>(&'a TileBuilder);

impl TileStore for Edge<'_> {
    type Error = std::convert::Infallible;
    type Bytes = Vec<u8>;

    fn tile(&self, level: u32, index: u64) -> Result<Option<Vec<u8>>, Self::Error> {
        Ok(self
            .0
            .edge
            .get(level as usize)
            .filter(|(at, _)| *at == index)
            .map(|(_, bytes)| bytes.clone()))
    }
}

/// Tiles in memory, keyed by (level, index): for tests and for checking a log's
/// stored tiles against ones rebuilt from its events.
pub type MemoryTiles = std::collections::HashMap<(u32, u64), Vec<u8>>;

impl TileStore for MemoryTiles {
    type Error = std::convert::Infallible;
    type Bytes = Vec<u8>;

    fn tile(&self, level: u32, index: u64) -> Result<Option<Vec<u8>>, Self::Error> {
        Ok(self.get(&(level, index)).cloned())
    }
}

/// Applies writes to a [`MemoryTiles`].
pub fn apply_writes(tiles: &mut MemoryTiles, writes: Vec<TileWrite>) {
    for write in writes {
        tiles.insert((write.level, write.index), write.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{inclusion_proof, leaf_hash, root, root_from_scratch, verify_inclusion};

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn given_leaves_in_groups_when_tiled_then_every_root_is_the_one_from_scratch() {
        let all = leaves(70_000);
        let mut store = MemoryTiles::new();
        let mut builder = TileBuilder::new();
        let mut writes = 0;
        // Groups of uneven sizes, as a log's group commits are.
        for (group, chunk) in all.chunks(37).enumerate() {
            for leaf in chunk {
                builder.push(*leaf);
            }
            let batch = builder.take_writes();
            writes += batch.len();
            apply_writes(&mut store, batch);
            let size = builder.size();
            if group % 97 == 0 || size == 70_000 {
                let at = root(&Tiles(&store), size);
                assert_eq!(
                    at,
                    Ok(root_from_scratch(&all[..size as usize])),
                    "size {size}"
                );
            }
        }
        // A few tiles per group, not two hashes per leaf.
        assert!(writes < 70_000 / 37 * 4, "{writes} tile writes");
        for size in [1u64, 255, 256, 257, 65_535, 65_536, 65_537] {
            assert_eq!(
                root(&Tiles(&store), size),
                Ok(root_from_scratch(&all[..size as usize]))
            );
        }
    }

    #[test]
    fn given_a_stored_tree_when_resumed_then_it_grows_as_if_never_stopped() {
        let all = leaves(1_000);
        let mut store = MemoryTiles::new();
        let mut builder = TileBuilder::new();
        for leaf in &all[..600] {
            builder.push(*leaf);
        }
        apply_writes(&mut store, builder.take_writes());
        let Ok(mut resumed) = TileBuilder::resume(&store, 600) else {
            panic!("a stored tree of 600 resumes");
        };
        for leaf in &all[600..] {
            resumed.push(*leaf);
        }
        apply_writes(&mut store, resumed.take_writes());
        let at = root(&Tiles(&store), 1_000);
        assert_eq!(at, Ok(root_from_scratch(&all)));
        let Ok(proof) = inclusion_proof(&Tiles(&store), 599, 1_000) else {
            panic!("proof");
        };
        assert_eq!(
            verify_inclusion(599, 1_000, &all[599], &proof, &root_from_scratch(&all)),
            Ok(())
        );
    }

    #[test]
    fn given_a_builder_keeping_nothing_then_its_root_is_still_the_one_from_scratch() {
        let all = leaves(70_000);
        let mut builder = TileBuilder::new().storing_from(u32::MAX);
        for (i, leaf) in all.iter().enumerate() {
            builder.push(*leaf);
            if i % 997 == 0 || [255, 256, 65_535, 65_536].contains(&i) {
                assert_eq!(
                    builder.root(),
                    Ok(root_from_scratch(&all[..=i])),
                    "size {}",
                    i + 1
                );
            }
        }
        assert_eq!(builder.root(), Ok(root_from_scratch(&all)));
        assert!(builder.take_writes().is_empty());
        assert_eq!(TileBuilder::new().root(), Ok(crate::merkle::empty_root()));
    }

    #[test]
    fn given_a_builder_storing_from_level_one_then_it_hands_out_no_leaf_tiles() {
        let mut builder = TileBuilder::new().storing_from(1);
        let all = leaves(600);
        for leaf in &all {
            builder.push(*leaf);
        }
        let writes = builder.take_writes();
        let places: Vec<_> = writes
            .iter()
            .map(|w| (w.level, w.index, w.bytes.len()))
            .collect();
        // Level 1 holds the roots of the two full leaf tiles.
        assert_eq!(places, vec![(1, 0, 64)]);
        let mut full = MemoryTiles::new();
        let mut everything = TileBuilder::new();
        for leaf in &all {
            everything.push(*leaf);
        }
        apply_writes(&mut full, everything.take_writes());
        assert_eq!(
            tile_root(&full, 0, 1),
            Ok(writes[0].bytes[32..].try_into().unwrap_or_default())
        );
    }

    #[test]
    fn given_a_store_short_of_the_size_when_resumed_or_read_then_refused() {
        let mut store = MemoryTiles::new();
        let mut builder = TileBuilder::new();
        for leaf in leaves(10) {
            builder.push(leaf);
        }
        apply_writes(&mut store, builder.take_writes());
        assert!(matches!(
            TileBuilder::resume(&store, 11),
            Err(TileError::Short {
                level: 0,
                index: 0,
                held: 10,
                needed: 11
            })
        ));
        assert!(matches!(
            root(&Tiles(&store), 12),
            Err(TileError::Short { .. })
        ));
        store.insert((0, 0), vec![0; 33]);
        assert!(matches!(
            root(&Tiles(&store), 1),
            Err(TileError::Malformed { bytes: 33, .. })
        ));
    }
}

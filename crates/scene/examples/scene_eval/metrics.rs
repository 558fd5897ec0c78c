//! Precision / recall / F1 of detected cuts against the labels.

/// A detection within this many frames of a label matches it.
pub const TOLERANCE: usize = 1;

#[derive(Debug, Clone, Copy, Default)]
pub struct Tally {
    pub true_pos: usize,
    pub false_pos: usize,
    pub false_neg: usize,
}

impl Tally {
    pub fn add(&mut self, other: Tally) {
        self.true_pos += other.true_pos;
        self.false_pos += other.false_pos;
        self.false_neg += other.false_neg;
    }

    pub fn precision(&self) -> f64 {
        ratio(self.true_pos, self.true_pos + self.false_pos)
    }

    pub fn recall(&self) -> f64 {
        ratio(self.true_pos, self.true_pos + self.false_neg)
    }

    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

/// No detections and no labels is perfect; this keeps the table readable.
fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        1.0
    } else {
        num as f64 / den as f64
    }
}

/// Matches each detection to at most one unused label within `TOLERANCE`.
/// Returns the tally and the unmatched detections and labels.
pub fn score(labels: &[usize], detections: &[usize]) -> (Tally, Vec<usize>, Vec<usize>) {
    let mut used = vec![false; labels.len()];
    let mut false_pos = Vec::new();
    for &d in detections {
        let hit = labels
            .iter()
            .enumerate()
            .find(|&(i, &l)| !used[i] && l.abs_diff(d) <= TOLERANCE);
        match hit {
            Some((i, _)) => used[i] = true,
            None => false_pos.push(d),
        }
    }
    let missed: Vec<usize> = labels
        .iter()
        .zip(&used)
        .filter(|(_, &u)| !u)
        .map(|(&l, _)| l)
        .collect();
    let tally = Tally {
        true_pos: detections.len() - false_pos.len(),
        false_pos: false_pos.len(),
        false_neg: missed.len(),
    };
    (tally, false_pos, missed)
}

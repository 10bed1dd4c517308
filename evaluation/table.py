"""The paper's Table 4 (Inception Scores on UCF-101, C3D) with our score placed among its rows."""

PAPER_TABLE4 = (
    ('3D model (weight clipping)', 4.32, 0.01),
    ('3D model (SVC)', 4.78, 0.02),
    ('Video GAN (normal GAN)', 8.18, 0.05),
    ('Video GAN (SVC)', 8.31, 0.09),
    ('TGAN (normal GAN)', 9.18, 0.11),
    ('TGAN (weight clipping)', 11.77, 0.11),
    ('TGAN (SVC)', 11.85, 0.07),
    ('Conditional TGAN (SVC)', 15.83, 0.18),
    ('UCF-101 dataset', 34.49, 0.03),
)
LATER_WORK = (
    ('MoCoGAN (Tulyakov et al. 2018)', 12.42, 0.03),
    ('TGANv2 (repository)', 25.07, 0.47),
)


def _row(marker, name, mean, std, width):
    return '{} {:<{}}  {:6.2f} ± {:.2f}'.format(marker, name, width, mean, std)


def format_table(label, mean, std):
    """The rows of Table 4 in the paper's order of score, ``label``'s row
    (marked ``>``) placed where its mean falls, then later work for context."""
    width = max(len(n) for n, _, _ in PAPER_TABLE4 + LATER_WORK + ((label, 0, 0),))
    lines = ['Inception Score, UCF-101 (paper Table 4; ours marked >)']
    placed = False
    for name, m, s in PAPER_TABLE4:
        if not placed and mean < m:
            lines.append(_row('>', label, mean, std, width))
            placed = True
        lines.append(_row(' ', name, m, s, width))
    if not placed:
        lines.append(_row('>', label, mean, std, width))
    lines.append('  later work, for context:')
    lines += [_row(' ', name, m, s, width) for name, m, s in LATER_WORK]
    return '\n'.join(lines)

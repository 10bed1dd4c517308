"""The paper's Table 4 (Inception Scores on UCF-101, C3D) and published
FVDs on UCF-101, with our score placed among their rows."""

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


# FVD on UCF-101 (16 frames, 2,048 videos; I3D logits), as quoted in the
# appendix of MAGVIT (Yu et al., arXiv 2212.05199), mean ± std over trials
# where given; "train+test": real statistics of both splits.
PUBLISHED_FVD = (
    ('TATS (Ge et al. 2022)', 420, 18),
    ('DIGAN, train+test (Yu et al. 2022)', 577, 21),
    ('DIGAN (Yu et al. 2022)', 655, 22),
    ('MoCoGAN-HD, train+test (Tian et al. 2021)', 838, None),
    ('TGANv2 (Saito et al. 2020)', 1209, 28),
)


def _row(marker, name, mean, std, width, figures=6):
    spread = '' if std is None else ' ± {:.2f}'.format(std)
    return '{} {:<{}}  {:{}.2f}{}'.format(marker, name, width, mean, figures, spread)


def _placed(title, rows, label, mean, std, width, figures=6):
    """``rows`` (ascending), ``label``'s row (marked ``>``) where its mean falls."""
    lines, placed = [title], False
    for name, m, s in rows:
        if not placed and mean < m:
            lines.append(_row('>', label, mean, std, width, figures))
            placed = True
        lines.append(_row(' ', name, m, s, width, figures))
    if not placed:
        lines.append(_row('>', label, mean, std, width, figures))
    return lines


def format_table(label, mean, std, protocol='tgan', dropout=True):
    """The rows of Table 4 in the paper's order of score, ``label``'s row
    (marked ``>``) placed where its mean falls, then later work for context;
    the title says which protocol ours used (Table 4's: ``tgan``, dropout on)."""
    title = ('Inception Score, UCF-101 (paper Table 4: the original script, C3D dropout on; '
             'ours marked >: {} protocol, C3D dropout {})'.format(
                 protocol, 'on' if dropout else 'off'))
    width = max(len(n) for n, _, _ in PAPER_TABLE4 + LATER_WORK + ((label, 0, 0),))
    lines = _placed(title, PAPER_TABLE4, label, mean, std, width)
    lines.append('  later work, for context:')
    lines += [_row(' ', name, m, s, width) for name, m, s in LATER_WORK]
    return '\n'.join(lines)


def format_fvd_table(label, mean, std, protocol):
    """Published FVDs on UCF-101 (lower is better) with ``label``'s row placed."""
    title = ('FVD, UCF-101 (published, as quoted by MAGVIT arXiv 2212.05199; ours marked >: '
             '{} protocol; lower is better)'.format(protocol))
    width = max(len(n) for n, _, _ in PUBLISHED_FVD + ((label, 0, 0),))
    lines = _placed(title, PUBLISHED_FVD, label, mean, std, width, figures=8)
    return '\n'.join(lines)

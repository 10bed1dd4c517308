"""The Generative Adversarial Metric (GAM) of two trained GANs: each model's
critic judges the other model's generator (Im et al. 2016, "Generating images
with recurrent adversarial networks", §5; TGAN paper §6.3, Table 3):

    python -m evaluation.gam --a results/tgan --b results/3d_svc

Models M_a = (G_a, D_a) and M_b = (G_b, D_b). A critic classifies a video as
real when its score is >= its threshold. Error rates:
eps(D, test) = the fraction of real test clips classified fake,
eps(D, G) = the fraction of G's samples classified real. Im et al.'s ratios

    r_test = eps(D_a, test) / eps(D_b, test),  r_samples = eps(D_a, G_b) / eps(D_b, G_a);

M_a wins when r_samples < 1 and r_test ~ 1 (the critics are equally good on
real data, so the one that is fooled more often faces the better generator).
We report the score 1 / r_samples = eps(D_b, G_a) / eps(D_a, G_b): > 1 means
M_a wins, the reading of Table 3 (TGAN as M_a: vs 3D model (GAN) 1.70, vs 3D
model (SVC) 1.27, vs TGAN without z0 in G1 1.03). r_test counts as ~1 when
|log r_test| <= log 1.2 (``TOLERANCE``: our choice; Im et al. give no number).
A ratio with denominator 0 is inf (nan when the numerator is 0 too).

Thresholds. A normal-GAN critic (objective ``gan``) outputs a logit: the
threshold is 0 (sigmoid 0.5), as in Im et al. A WGAN critic's score is
unbounded and the paper does not say how it was thresholded; our rule: the
threshold that best separates real clips of a "threshold" set (disjoint from
the test clips) from the critic's OWN generator's samples (drawn with other
seeds than the evaluation samples), ``best_threshold``.

Data and seeds (``--seed S``). The real set is the runs' dataset made with
seed max(training seeds) + 1 (the synthetic set is a pure function of (seed,
index), so these clips were not trained on; for the real datasets the seed
only moves the random 16-frame windows). A permutation by S splits it into
halves: threshold clips and test clips (``--subset`` picks the dataset's
subset, e.g. test for UCF-101; Moving MNIST has one file, so there its clips
are training clips in new windows). G_a's evaluation samples use seed S, G_b's
S + 1, the threshold samples S + 2 and S + 3. Generators and critics run with
train=False: the critics' BN uses its running statistics, which training
accumulated over real and fake batches alike.
"""
import argparse
import math
import os
from collections import namedtuple

from runtime import chainer_compat  # noqa: F401  (before chainer)
import chainer
import chainer.datasets
import numpy

import datasets
from runtime.devices import get_device
from runtime.errors import UsageError, run_command
from evaluation import record, sampling, snapshots

TOLERANCE = 1.2  # r_test ~ 1 when 1 / TOLERANCE <= r_test <= TOLERANCE
COMPARED = ('dataset', 'frames', 'size', 'channels', 'dataset_args')

Model = namedtuple('Model', 'generator critic objective')


def best_threshold(real_scores, fake_scores):
    """The threshold t (scores >= t are "real") of maximum balanced accuracy,
    (fraction of real >= t + fraction of fake < t) / 2: a midpoint between
    two adjacent distinct scores, or -inf / +inf (all real / all fake).
    Of equally good thresholds the lowest is taken."""
    real = numpy.sort(numpy.asarray(real_scores, numpy.float64))
    fake = numpy.sort(numpy.asarray(fake_scores, numpy.float64))
    values = numpy.unique(numpy.concatenate([real, fake]))
    candidates = numpy.concatenate([[-numpy.inf], (values[:-1] + values[1:]) / 2, [numpy.inf]])
    real_ok = 1 - numpy.searchsorted(real, candidates) / len(real)
    fake_ok = numpy.searchsorted(fake, candidates) / len(fake)
    return float(candidates[numpy.argmax(real_ok + fake_ok)])


def real_error(scores, threshold):
    """eps(D, real): the fraction of real clips' scores classified fake (< threshold)."""
    return float(numpy.mean(numpy.asarray(scores) < threshold))


def fake_error(scores, threshold):
    """eps(D, G): the fraction of G's samples' scores classified real (>= threshold)."""
    return float(numpy.mean(numpy.asarray(scores) >= threshold))


def ratio(numerator, denominator):
    """numerator / denominator; inf for x / 0, nan for 0 / 0."""
    if denominator == 0:
        return math.inf if numerator > 0 else math.nan
    return numerator / denominator


def gam(test_a, test_b, samples_a, samples_b, tolerance=TOLERANCE):
    """Im et al.'s ratios from the error rates eps(D_a, test), eps(D_b, test),
    eps(D_a, G_b), eps(D_b, G_a); ``score`` = 1 / r_samples (> 1: M_a wins)."""
    r_test = ratio(test_a, test_b)
    return {'r_test': r_test, 'r_samples': ratio(samples_a, samples_b),
            'score': ratio(samples_b, samples_a),
            'r_test_within_tolerance': bool(abs(math.log(r_test)) <= math.log(tolerance))
            if 0 < r_test < math.inf else False}


def critic_scores(critics, batches):
    """Each critic's scores (train=False) of the same videos, on the host."""
    out = [[] for _ in critics]
    for x in batches:
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            for scores, critic in zip(out, critics):
                scores.append(chainer.get_device('@numpy').send(critic(x).array))
    return [numpy.concatenate(scores).astype(numpy.float64) for scores in out]


def threshold(model, real_scores, fake_scores):
    """0 for a normal-GAN critic's logit, else ``best_threshold``."""
    return 0.0 if model.objective == 'gan' else best_threshold(real_scores, fake_scores)


def compare(a, b, threshold_clips, test_clips, n, batchsize, seed, device):
    """GAM of Models ``a`` and ``b`` on ``n`` samples per generator and ``n``
    clips of each real set (datasets), seeds as in the module docstring."""
    def real(dataset, offset, label):
        return critic_scores((a.critic, b.critic), sampling.from_dataset(
            dataset, n, batchsize, seed + offset, device, label))

    def fake(model, critic, offset, label):
        return critic_scores((critic,), sampling.generated(
            model.generator, n, batchsize, seed + offset, label))[0]

    real_thr = real(threshold_clips, 0, 'real threshold clips')
    test = real(test_clips, 1, 'real test clips')
    found = {}
    for i, (name, model, other) in enumerate((('a', a, 'b'), ('b', b, 'a'))):
        own = fake(model, model.critic, 2 + i, 'G_{} threshold samples'.format(name))
        t = threshold(model, real_thr[i], own)
        samples = fake(b if i == 0 else a, model.critic, 1 - i, 'G_{} samples'.format(other))
        found[name] = {'threshold': t, 'threshold_errors': [real_error(real_thr[i], t),
                                                            fake_error(own, t)],
                       'test_error': real_error(test[i], t),
                       'samples_error': fake_error(samples, t)}
    return dict(found, **gam(found['a']['test_error'], found['b']['test_error'],
                             found['a']['samples_error'], found['b']['samples_error']))


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--a', required=True, help='result folder of M_a (train.py)')
    p.add_argument('--b', required=True, help='result folder of M_b')
    p.add_argument('--iteration-a', type=int, help='snapshot of M_a (default: the latest)')
    p.add_argument('--iteration-b', type=int, help='snapshot of M_b (default: the latest)')
    p.add_argument('--n', type=int, default=2000,
                   help='samples per generator and real clips per set (default 2000)')
    p.add_argument('--batchsize', type=int, default=32)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--gpu', type=int, default=-1, help='GPU id, -1 for CPU (default)')
    p.add_argument('--data', help='folder of the dataset\'s files (default: the run\'s)')
    p.add_argument('--subset', help='passed to the dataset as dataset_args subset '
                                    '(e.g. test for UCF-101)')
    p.add_argument('--json', help='record file (default: RESULT_A/gam_iter_N_vs_B_iter_M.json)')
    return p.parse_args(argv)


def check_comparable(config_a, config_b):
    """Both runs model the same unconditional data."""
    for key in COMPARED:
        if config_a[key] != config_b[key]:
            raise UsageError('the runs differ in {}: {!r} (--a) vs {!r} (--b); GAM compares '
                             'models of the same data'.format(key, config_a[key], config_b[key]))
    if config_a['conditional'] or config_b['conditional']:
        raise UsageError('GAM is implemented for unconditional models: {} is conditional'.format(
            '--a' if config_a['conditional'] else '--b'))


def load_model(result, iteration, config, device):
    generator, config, files, iteration = snapshots.load_generator(result, iteration, config)
    critic = snapshots.load_critic(result, iteration, config)
    generator.to_device(device)
    critic.to_device(device)
    files.append(snapshots.critic_file(result, iteration))
    return Model(generator, critic, config['objective']), files, iteration


def split_real(config_a, config_b, data, subset, seed):
    """(threshold clips, test clips): disjoint halves of the real set (module docstring)."""
    description = sampling.dataset_description(config_a)
    if subset is not None:
        description['dataset_args'] = dict(description['dataset_args'], subset=subset)
    data = data or config_a['data'] or datasets.default_path(description['dataset'])
    real_seed = max(config_a['seed'], config_b['seed']) + 1
    real = sampling.make(description, data, real_seed)
    if len(real) < 2:
        raise UsageError('the real set has {} clips: GAM needs at least 2'.format(len(real)))
    order, half = numpy.random.RandomState(seed).permutation(len(real)), len(real) // 2
    return (chainer.datasets.SubDataset(real, 0, half, order),
            chainer.datasets.SubDataset(real, half, len(real), order),
            {'description': description, 'data': data, 'seed': real_seed, 'clips': len(real)})


def text(value):
    """A float for the JSON record: inf and nan as strings."""
    return value if math.isfinite(value) else str(value)


def report(result, args, iterations):
    for name in 'ab':
        part = result[name]
        print('D_{} ({} iteration {}): threshold {:.6g} ({}; errors on the threshold sets: '
              'real {:.4f}, own samples {:.4f})'.format(
                  name, getattr(args, name), iterations[name], part['threshold'],
                  part['rule'], *part['threshold_errors']))
    a, b = result['a'], result['b']
    print('eps(D_a, test) = {:.4f}  eps(D_b, test) = {:.4f}  r_test = {:.4f} ({} 1 within a '
          'factor {})'.format(a['test_error'], b['test_error'], result['r_test'],
                              'is' if result['r_test_within_tolerance'] else 'is NOT', TOLERANCE))
    print('eps(D_a, G_b) = {:.4f}  eps(D_b, G_a) = {:.4f}  r_samples = {:.4f}'.format(
        a['samples_error'], b['samples_error'], result['r_samples']))
    note = ''
    if math.isinf(result['score']):
        note = ' (inf: eps(D_a, G_b) is 0, D_a caught every sample of G_b)'
    elif math.isnan(result['score']):
        note = ' (undefined: both critics caught every sample of the other generator)'
    print('GAM score eps(D_b, G_a) / eps(D_a, G_b) = {:.4f}{} (> 1: A wins; paper Table 3 has '
          '1.70, 1.27, 1.03 for TGAN as A)'.format(result['score'], note))
    if not result['r_test_within_tolerance']:
        print('r_test is not ~1: the critics differ on real clips, so the comparison is not '
              'conclusive (Im et al.)')


def main(argv=None):
    args = parse_args(argv)
    if args.n < 1 or args.batchsize < 1:
        raise UsageError('--n and --batchsize must be at least 1')
    configs = snapshots.run_config(args.a), snapshots.run_config(args.b)
    check_comparable(*configs)
    device = get_device(args.gpu)
    a, files_a, iteration_a = load_model(args.a, args.iteration_a, None, device)
    b, files_b, iteration_b = load_model(args.b, args.iteration_b, None, device)
    threshold_clips, test_clips, real = split_real(*configs, args.data, args.subset, args.seed)
    result = compare(a, b, threshold_clips, test_clips, args.n, args.batchsize, args.seed, device)
    for name, model in (('a', a), ('b', b)):
        result[name]['rule'] = ('normal-GAN logit, sigmoid 0.5' if model.objective == 'gan'
                                else 'WGAN: max accuracy, real vs own samples')
    report(result, args, {'a': iteration_a, 'b': iteration_b})

    path = args.json or os.path.join(args.a, 'gam_iter_{}_vs_{}_iter_{}.json'.format(
        iteration_a, os.path.basename(os.path.normpath(args.b)), iteration_b))
    for name in 'ab':
        result[name]['threshold'] = text(result[name]['threshold'])
    rec = dict(result, **{key: text(result[key]) for key in ('r_test', 'r_samples', 'score')})
    rec.update(result_a=args.a, result_b=args.b, iteration_a=iteration_a,
               iteration_b=iteration_b, n=args.n, batchsize=args.batchsize, seed=args.seed,
               tolerance=TOLERANCE, real=dict(real, subset=args.subset),
               weights={f: record.sha256(f) for f in files_a + files_b},
               versions=record.versions(), device=str(device))
    record.write_record(path, rec)
    print('record: {}'.format(path))
    return 0


if __name__ == '__main__':
    run_command(main)

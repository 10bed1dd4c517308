"""functions.threads: work split over the BLAS's threads, per process."""
import multiprocessing
import os
import threading
import unittest

import numpy

from functions import threads


def _squares_in_a_fork(queue):
    out = numpy.zeros(8)

    def square(i):
        out[i] = i * i
    threads.run(square, range(8))
    queue.put(out.tolist())


class TestRun(unittest.TestCase):

    def test_every_item_once_on_the_blas_threads(self):
        seen, callers = [], set()
        lock = threading.Lock()

        def record(item):
            with lock:
                seen.append(item)
                callers.add(threading.get_ident())
        threads.run(record, range(10))
        self.assertEqual(sorted(seen), list(range(10)))
        self.assertEqual(len(callers), min(threads.blas_threads(), 10))
        self.assertIn(threading.get_ident(), callers)

    def test_an_error_in_a_helper_thread_reaches_the_caller(self):
        def fail_on_last(item):
            if item == 9:
                raise ValueError('item 9')
        with self.assertRaisesRegex(ValueError, 'item 9'):
            threads.run(fail_on_last, range(10))

    def test_a_forked_child_gets_its_own_threads(self):
        threads.run(lambda item: None, range(4))  # the parent's pool exists
        context = multiprocessing.get_context('fork')
        queue = context.Queue()
        child = context.Process(target=_squares_in_a_fork, args=(queue,))
        child.start()
        self.assertEqual(queue.get(timeout=30), [float(i * i) for i in range(8)])
        child.join(30)
        self.assertEqual(child.exitcode, 0)


class TestNumpyBlas(unittest.TestCase):

    def test_the_blas_in_numpys_wheel_not_opencvs(self):
        import cv2  # noqa: F401  (its wheel loads a second OpenBLAS)
        blas = threads.numpy_blas()
        self.assertTrue(blas)
        libraries = {os.path.dirname(info['filepath']) for info in blas}
        self.assertFalse(any('opencv' in path for path in libraries), libraries)
        self.assertGreaterEqual(threads.blas_threads(), 1)


class TestBatchChunks(unittest.TestCase):

    def test_chunks_cover_the_batch_in_order(self):
        a = numpy.zeros((10, 3, 10000), numpy.float32)  # 120 kB per example
        chunks = threads.batch_chunks(a)
        self.assertGreater(len(chunks), 1)
        covered = numpy.concatenate([numpy.arange(10)[c] for c in chunks])
        numpy.testing.assert_array_equal(covered, numpy.arange(10))
        self.assertLessEqual(a[chunks[0]].nbytes, max(threads.CHUNK_BYTES, a[:1].nbytes))

    def test_an_example_larger_than_a_chunk_is_one_chunk(self):
        a = numpy.zeros((3, threads.CHUNK_BYTES), numpy.float32)
        self.assertEqual([a[c].shape[0] for c in threads.batch_chunks(a)], [1, 1, 1])


if __name__ == '__main__':
    unittest.main()

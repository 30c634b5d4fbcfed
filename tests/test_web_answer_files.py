"""The answer files a worker lends its query runners: an empty one is lent again, one an answer was
written in is not, and a runner writes a large answer through the path it was given (answer_files.py)."""

import os

from lodpub.web.answer_files import KEPT_FILES, AnswerFiles, write_answer


def test_an_empty_answer_file_is_lent_again_and_a_written_one_is_closed(tmp_path):
    files = AnswerFiles(tmp_path)
    lent, path = files.take()
    assert path == f"/proc/{os.getpid()}/fd/{lent.fileno()}" and os.listdir(tmp_path) == []  # unlinked
    files.give_back(lent)
    again, _ = files.take()
    assert again is lent and not again.closed

    assert write_answer(path, b"x" * (2 << 20))  # too large for the pipe: written in the file
    assert again.read() == b"x" * (2 << 20)
    files.give_back(again)
    assert again.closed
    fresh, _ = files.take()
    assert fresh is not again and os.fstat(fresh.fileno()).st_size == 0


def test_a_small_answer_leaves_its_file_empty_and_few_files_are_kept(tmp_path):
    files = AnswerFiles(tmp_path)
    lent = [files.take() for _ in range(KEPT_FILES + 2)]
    assert not write_answer(lent[0][1], b"small")  # back through the pipe
    for answer_file, _ in lent:
        files.give_back(answer_file)
    assert sum(answer_file.closed for answer_file, _ in lent) == 2
    assert all(os.fstat(answer_file.fileno()).st_size == 0 for answer_file, _ in lent if not answer_file.closed)

"""Both languages are complete."""

from lodpub.web.i18n import LANGUAGES, WORDS


def test_every_word_of_the_pages_is_given_in_czech_and_english():
    for key, texts in WORDS.items():
        assert set(texts) == set(LANGUAGES), key
        assert all(text.strip() for text in texts.values()), key

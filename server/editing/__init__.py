"""Editing a partnership's file: read it as blocks, write a changed graph back as a person writes it,
name new resources, validate the change and save it (atomically, checked against the revision the
editor loaded, recorded as a change). No web framework here: the web layer, a CLI and tests share it.
"""

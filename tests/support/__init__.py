"""Test helpers: temporary projects with a stage of their own, a running `chalice local`, lead builders."""

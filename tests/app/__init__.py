"""Tests of the patient app: state, views, the local web app in Chromium."""

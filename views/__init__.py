"""Streamlit pages: thin scripts that read state, call optimizer/, and draw."""

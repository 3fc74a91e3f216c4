//! One source for a blocking and an async implementation (the `bisync` crate's pattern; the
//! same stripping as gix-protocol's `bisync` attribute): a module is written once with
//! `async fn` and `.await`, included twice by `#[path]`, and each inclusion imports one of
//! these attributes as `bisync`:
//!
//! * [`blocking`] removes every `async` keyword and every `.await` from the item it is put
//!   on: the blocking implementation, straight-line code over blocking traits;
//! * [`asynchronous`] leaves the item as it is.
//!
//! Nothing else changes: the two copies share every line of their logic, and the traits the
//! module's code calls (`NorFlash`, say) are the blocking or the async ones by what the
//! including module imports.
//!
//! What it does not do: an `async { .. }` block would become a plain block, run at once, and
//! `async move { .. }` would not parse; tokens inside macro calls are stripped too. Write the
//! shared source with `async fn` and `.await` only.

use proc_macro::{Group, TokenStream, TokenTree};

/// The item without `async` and `.await`: its blocking twin.
#[proc_macro_attribute]
pub fn blocking(_args: TokenStream, item: TokenStream) -> TokenStream {
    strip(item)
}

/// The item as written.
#[proc_macro_attribute]
pub fn asynchronous(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}

fn strip(tokens: TokenStream) -> TokenStream {
    let mut out: Vec<TokenTree> = Vec::new();
    let mut iter = tokens.into_iter().peekable();
    while let Some(t) = iter.next() {
        match t {
            TokenTree::Ident(ref i) if i.to_string() == "async" => {}
            TokenTree::Punct(ref p) if p.as_char() == '.' => {
                let is_await =
                    matches!(iter.peek(), Some(TokenTree::Ident(i)) if i.to_string() == "await");
                if is_await {
                    iter.next();
                } else {
                    out.push(t);
                }
            }
            TokenTree::Group(g) => {
                let mut inner = Group::new(g.delimiter(), strip(g.stream()));
                inner.set_span(g.span());
                out.push(TokenTree::Group(inner));
            }
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}

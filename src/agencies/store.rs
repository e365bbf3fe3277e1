//! Queries on `agencies`.

use diesel::prelude::*;

use super::model::{Agency, NewAgency};
use crate::db::DbConnection;
use crate::db::schema::agencies;
use crate::error::AppError;

/// Inserts the agency; a second agency with the same name (ignoring case and accents) is a conflict.
pub fn insert(conn: &mut DbConnection, new: &NewAgency) -> Result<(), AppError> {
    let taken: i64 = agencies::table
        .filter(agencies::name_key.eq(&new.name_key))
        .count()
        .get_result(conn)?;
    if taken > 0 {
        return Err(AppError::Conflict("agency_exists"));
    }
    diesel::insert_into(agencies::table)
        .values(new)
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Agency>> {
    agencies::table
        .find(id)
        .select(Agency::as_select())
        .first(conn)
        .optional()
}

pub fn list(conn: &mut DbConnection, offset: i64, limit: i64) -> QueryResult<(Vec<Agency>, i64)> {
    let total = agencies::table.count().get_result(conn)?;
    let items = agencies::table
        .order((agencies::name_key.asc(), agencies::id.asc()))
        .offset(offset)
        .limit(limit)
        .select(Agency::as_select())
        .load(conn)?;
    Ok((items, total))
}
